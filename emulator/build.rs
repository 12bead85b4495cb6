//! Links the reference codecs behind `GET /cgi-bin/media/get/jssdk`: Debian's libspeex
//! (`libspeex-dev`) and opencore-amrnb (`libopencore-amrnb-dev`); `scripts/setup` installs both.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-lib=speex");
    println!("cargo:rustc-link-lib=opencore-amrnb");
}
