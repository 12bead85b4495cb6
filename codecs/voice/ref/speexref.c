/* The Speex reference for wxmedia's voice tests: Debian's libspeex (float build).
 *
 *   speexref enc [--lenbyte] in.s16 out.speex   16 kHz s16le mono -> WeChat HD voice
 *   speexref dec [--lenbyte] in.speex out.s16   WeChat HD voice -> 16 kHz s16le mono
 *
 * WeChat HD voice is Speex wideband at quality 7: 320 samples (20 ms) per frame, each frame
 * coded to 476 bits and stored as exactly 60 bytes (terminator bits pad the last byte), one
 * after another with no header. --lenbyte writes/reads a length byte before each frame.
 * The decoder is speex_decoder_init's defaults (perceptual enhancement on), one speex_decode
 * per frame, as Tencent's decoder reads them. Build: gcc -O2 speexref.c -lspeex -o speexref
 */
#include <speex/speex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME 320
#define FRAME_BYTES 60

static int enc(FILE *in, FILE *out, int lenbyte) {
  void *st = speex_encoder_init(speex_lib_get_mode(SPEEX_MODEID_WB));
  int q = 7;
  speex_encoder_ctl(st, SPEEX_SET_QUALITY, &q);
  SpeexBits bits;
  speex_bits_init(&bits);
  short pcm[FRAME];
  char buf[200];
  size_t n;
  while ((n = fread(pcm, 2, FRAME, in)) > 0) {
    if (n < FRAME) memset(pcm + n, 0, (FRAME - n) * 2);
    speex_bits_reset(&bits);
    speex_encode_int(st, pcm, &bits);
    speex_bits_insert_terminator(&bits);
    int nb = speex_bits_write(&bits, buf, sizeof buf);
    if (nb > FRAME_BYTES) { fprintf(stderr, "frame of %d bytes > 60\n", nb); return 1; }
    memset(buf + nb, 0, FRAME_BYTES - nb);
    if (lenbyte) { unsigned char l = FRAME_BYTES; fwrite(&l, 1, 1, out); }
    fwrite(buf, 1, FRAME_BYTES, out);
  }
  speex_bits_destroy(&bits);
  speex_encoder_destroy(st);
  return 0;
}

static int dec(FILE *in, FILE *out, int lenbyte) {
  void *st = speex_decoder_init(speex_lib_get_mode(SPEEX_MODEID_WB));
  SpeexBits bits;
  speex_bits_init(&bits);
  char buf[256];
  short pcm[FRAME];
  for (;;) {
    int len = FRAME_BYTES;
    if (lenbyte) {
      int c = fgetc(in);
      if (c == EOF) break;
      len = c;
    }
    if (fread(buf, 1, len, in) != (size_t)len) break;
    speex_bits_read_from(&bits, buf, len);
    if (speex_decode_int(st, &bits, pcm) != 0) { fprintf(stderr, "decode error\n"); return 1; }
    fwrite(pcm, 2, FRAME, out);
  }
  speex_bits_destroy(&bits);
  speex_decoder_destroy(st);
  return 0;
}

int main(int argc, char **argv) {
  int lenbyte = argc == 5 && strcmp(argv[2], "--lenbyte") == 0;
  if (argc != 4 + lenbyte) {
    fprintf(stderr, "usage: speexref enc|dec [--lenbyte] in out\n");
    return 2;
  }
  FILE *in = fopen(argv[2 + lenbyte], "rb"), *out = fopen(argv[3 + lenbyte], "wb");
  if (!in || !out) { perror("open"); return 1; }
  int rc = strcmp(argv[1], "enc") == 0 ? enc(in, out, lenbyte) : dec(in, out, lenbyte);
  fclose(out);
  return rc;
}
