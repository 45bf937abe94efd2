//! Any string: image reference parsing returns a value or an error, never panics, and a parsed
//! reference's full form parses back to the same reference and is canonical.
#![no_main]

use keel_oci::ImageRef;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(r) = ImageRef::parse_normalized(s) else {
        return;
    };
    let full = r.to_string();
    let again = ImageRef::parse_canonical(&full).expect("the full form is canonical");
    assert_eq!(again, r);
    // The familiar form need not re-parse to the same reference: docker's `docker.io/a.b/c` is
    // shown as `a.b/c`, which reads back as registry `a.b`. Only require that it is computed.
    let _ = r.familiar_string();
    let _ = r.with_default_tag();
});
