//! An otflow processor plugin in Rust: `drop_attributes` removes the log
//! record attributes whose key is in `keys` (exact match) or starts with
//! one of `key_prefixes`, by rewriting the OTLP protobuf bytes (no decode
//! into a tree, no crates). A request with nothing to drop is forwarded
//! as it came, without a copy.
//!
//! Build: cargo build --offline --release  ->  target/release/libotflow_attr_drop.so
//! Use:   plugins: [path/to/libotflow_attr_drop.so], processor `drop_attributes`.

mod abi;
mod wire;

use abi::*;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicPtr, Ordering};

/// The host table, set once by otf_plugin_init before any callback runs.
static HOST: AtomicPtr<Host> = AtomicPtr::new(std::ptr::null_mut());

fn host() -> &'static Host {
    unsafe { &*HOST.load(Ordering::Acquire) }
}

#[repr(C)]
struct Config {
    keys: StrList,
    key_prefixes: StrList,
}

struct Processor {
    node: *mut Node,
    keys: Vec<Vec<u8>>,
    prefixes: Vec<Vec<u8>>,
}

fn strlist(l: &StrList) -> Vec<Vec<u8>> {
    (0..l.n)
        .map(|i| unsafe { CStr::from_ptr(*l.items.add(i)).to_bytes().to_vec() })
        .collect()
}

const NONE: *const c_char = std::ptr::null();

static SCHEMA: [ConfigField; 3] = [
    ConfigField {
        key: b"keys\0".as_ptr() as *const c_char,
        type_: CFG_STRING_LIST,
        offset: 0,
        def: NONE,
        desc: b"Attribute keys to drop (exact match).\0".as_ptr() as *const c_char,
        required: false,
        enum_values: std::ptr::null(),
        sub: std::ptr::null(),
        hint: NONE,
        present_at: 0,
        min: NONE,
        max: NONE,
        range_why: NONE,
        ignored: NONE,
        ext_ref: 0,
        elem_size: 0,
        parse: 0,
        release: 0,
    },
    ConfigField {
        key: b"key_prefixes\0".as_ptr() as *const c_char,
        type_: CFG_STRING_LIST,
        offset: std::mem::size_of::<StrList>(),
        def: NONE,
        desc: b"Attribute key prefixes to drop.\0".as_ptr() as *const c_char,
        required: false,
        enum_values: std::ptr::null(),
        sub: std::ptr::null(),
        hint: NONE,
        present_at: 0,
        min: NONE,
        max: NONE,
        range_why: NONE,
        ignored: NONE,
        ext_ref: 0,
        elem_size: 0,
        parse: 0,
        release: 0,
    },
    // OTF_CONFIG_FIELD_END: all zero.
    ConfigField {
        key: NONE,
        type_: 0,
        offset: 0,
        def: NONE,
        desc: NONE,
        required: false,
        enum_values: std::ptr::null(),
        sub: std::ptr::null(),
        hint: NONE,
        present_at: 0,
        min: NONE,
        max: NONE,
        range_why: NONE,
        ignored: NONE,
        ext_ref: 0,
        elem_size: 0,
        parse: 0,
        release: 0,
    },
];

unsafe extern "C" fn create(ctx: *const CreateCtx, instance: *mut *mut c_void) -> c_int {
    let cfg = &*((*ctx).config as *const Config);
    let p = Box::new(Processor {
        node: (*ctx).node,
        keys: strlist(&cfg.keys),
        prefixes: strlist(&cfg.key_prefixes),
    });
    *instance = Box::into_raw(p) as *mut c_void;
    0
}

unsafe fn nack(msg: *mut Msg, code: c_int, permanent: bool, why: &[u8]) {
    (host().msg_nack)(msg, -code, permanent, why.as_ptr() as *const c_char);
}

unsafe extern "C" fn consume(instance: *mut c_void, msg: *mut Msg) {
    let p = &*(instance as *const Processor);
    let h = host();
    let bytes = Buf::bytes((h.msg_payload)(msg));
    let reject = |k: &[u8]| {
        p.keys.iter().any(|x| x.as_slice() == k) || p.prefixes.iter().any(|x| k.starts_with(x))
    };
    let rw = match wire::drop_log_attributes(bytes, &reject) {
        Some(rw) => rw,
        None => return nack(msg, EINVAL, true, b"drop_attributes: malformed logs request\0"),
    };
    if rw.dropped == 0 {
        if (h.node_send)(p.node, msg) != 0 {
            nack(msg, EAGAIN, false, b"drop_attributes: pipeline full\0");
        }
        return;
    }
    let buf = (h.buf_create_copy)(rw.out.as_ptr() as *const c_void, rw.out.len());
    if buf.is_null() {
        return nack(msg, ENOMEM, false, b"drop_attributes: out of memory\0");
    }
    // A new message for the new bytes, with the original's envelope and
    // identity; its outcome answers the original (see control).
    let m = (h.msg_create)(p.node, SIGNAL_LOGS, buf, (h.msg_items)(msg));
    if m.is_null()
        || (h.msg_copy_envelope)(m, msg) != 0
        || (h.msg_add_source)(m, (h.msg_id)(msg)) != 0
        || (h.msg_subscribe)(m, p.node, INTEREST_ACK | INTEREST_NACK, msg as u64) != 0
    {
        if !m.is_null() {
            (h.msg_drop)(m);
        }
        return nack(msg, ENOMEM, false, b"drop_attributes: out of memory\0");
    }
    if (h.node_send)(p.node, m) != 0 {
        (h.msg_drop)(m);
        nack(msg, EAGAIN, false, b"drop_attributes: pipeline full\0");
    }
}

unsafe extern "C" fn control(instance: *mut c_void, c: *const Ctrl) {
    let p = &*(instance as *const Processor);
    let h = host();
    let c = &*c;
    let orig = c.calldata as *mut Msg;
    match c.type_ {
        CTRL_ACK if !orig.is_null() => (h.msg_ack)(orig),
        CTRL_NACK if !orig.is_null() => (h.msg_nack)(orig, c.error, c.permanent, c.reason.as_ptr()),
        CTRL_KIL => (h.node_shutdown_done)(p.node),
        _ => {}
    }
    if !c.payload.is_null() {
        (h.buf_unref)(c.payload);
    }
}

unsafe extern "C" fn destroy(instance: *mut c_void) {
    drop(Box::from_raw(instance as *mut Processor));
}

static FACTORY: Factory = Factory {
    abi_version: COMPONENT_ABI,
    struct_size: std::mem::size_of::<Factory>() as u32,
    kind: KIND_PROCESSOR,
    type_: b"drop_attributes\0".as_ptr() as *const c_char,
    description: b"Drops log record attributes by key (example Rust plugin).\0".as_ptr()
        as *const c_char,
    stability: [STABILITY_UNDEFINED, STABILITY_UNDEFINED, STABILITY_DEVELOPMENT],
    config_schema: SCHEMA.as_ptr(),
    config_size: std::mem::size_of::<Config>(),
    validate: None,
    create: [None, None, Some(create)],
    start: None,
    consume: [None, None, Some(consume)],
    control: Some(control),
    destroy: Some(destroy),
    aliases: std::ptr::null(),
    ports: std::ptr::null(),
    connector_pairs: [0; 3],
    check_wiring: 0,
};

#[no_mangle]
pub extern "C" fn otf_plugin_abi() -> u32 {
    PLUGIN_ABI
}

#[no_mangle]
pub unsafe extern "C" fn otf_plugin_init(h: *const Host, ctx: *mut c_void) -> c_int {
    HOST.store(h as *mut Host, Ordering::Release);
    let msg = b"drop_attributes: Rust plugin loaded\0";
    ((*h).log)(std::ptr::null_mut(), 1 /* info */, msg.as_ptr() as *const c_char);
    ((*h).register_factory)(ctx, &FACTORY)
}

#[cfg(test)]
mod tests {
    #[test]
    fn layouts_match_the_c_headers() {
        use super::abi::*;
        use std::mem::{offset_of, size_of};
        assert_eq!(size_of::<ConfigField>(), 144);
        assert_eq!(offset_of!(ConfigField, ext_ref), 112);
        assert_eq!(size_of::<Factory>(), 184); // OTF_PLUGIN_FACTORY_MIN_SIZE
        assert_eq!(offset_of!(Factory, consume), 104);
        assert_eq!(offset_of!(Factory, connector_pairs), 160);
        assert_eq!(offset_of!(Host, node_send), 136);
        assert_eq!(offset_of!(Host, log), 208);
        assert_eq!(offset_of!(Host, buf_unref), 240);
        assert_eq!(offset_of!(Ctrl, reason), 53);
        assert_eq!(size_of::<Ctrl>(), 216);
    }
}
