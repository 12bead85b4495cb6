/* The reference AMR-NB encoder, opencore-amrnb, as the tests run it: 8 kHz mono s16le in,
 * a storage file ("#!AMR\n" and one record per 20 ms) out, a final partial frame padded with
 * zeros as sox pads it. Unlike sox, DTX is a choice.
 *
 *   amrref MODE DTX IN.s16 OUT.amr      (MODE 0..7, DTX 0 or 1)
 *
 * gcc -O2 amrref.c -lopencore-amrnb -o amrref */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <opencore-amrnb/interf_enc.h>

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: amrref MODE DTX IN.s16 OUT.amr\n");
        return 2;
    }
    int mode = atoi(argv[1]);
    int dtx = atoi(argv[2]);
    FILE *in = fopen(argv[3], "rb");
    FILE *out = fopen(argv[4], "wb");
    if (!in || !out) {
        perror("open");
        return 1;
    }
    void *enc = Encoder_Interface_init(dtx);
    fwrite("#!AMR\n", 1, 6, out);
    short pcm[160];
    unsigned char frame[64];
    size_t n;
    while ((n = fread(pcm, 2, 160, in)) > 0) {
        if (n < 160)
            memset(pcm + n, 0, (160 - n) * 2);
        int len = Encoder_Interface_Encode(enc, (enum Mode)mode, pcm, frame, 0);
        fwrite(frame, 1, (size_t)len, out);
    }
    Encoder_Interface_exit(enc);
    fclose(in);
    fclose(out);
    return 0;
}
