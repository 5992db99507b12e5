//! Hand-written bindings of the parts of otflow's plugin ABI this plugin
//! uses (include/otflow/plugin.h, component.h, config_schema.h, buf.h).
//! Layouts follow the C structs field by field (x86-64 / aarch64 LP64);
//! entries of the host table this plugin does not call are kept as
//! placeholders so that the offsets stay right.
#![allow(dead_code)]

use std::os::raw::{c_char, c_int, c_void};

pub const PLUGIN_ABI: u32 = 1 << 16; // 1.0
pub const COMPONENT_ABI: u32 = 1;

pub const KIND_PROCESSOR: c_int = 1;
pub const SIGNAL_LOGS: c_int = 2;
pub const STABILITY_UNDEFINED: c_int = 0;
pub const STABILITY_DEVELOPMENT: c_int = 1;

pub const CTRL_ACK: c_int = 1;
pub const CTRL_NACK: c_int = 2;
pub const CTRL_KIL: c_int = 4;

pub const INTEREST_ACK: u32 = 1;
pub const INTEREST_NACK: u32 = 2;

pub const COUNTER_DROPPED: c_int = 4;

pub const CFG_STRING_LIST: c_int = 9;

pub const EINVAL: c_int = 22;
pub const ENOMEM: c_int = 12;
pub const EAGAIN: c_int = 11;

pub type Msg = c_void;
pub type Node = c_void;

#[repr(C)]
pub struct Buf {
    pub refcnt: u32,
    pub flags: u32,
    pub len: usize,
    pub cap: usize,
    _pad: usize, // data is 16-byte aligned: it starts at offset 32
    // data follows
}

impl Buf {
    pub unsafe fn bytes<'a>(b: *const Buf) -> &'a [u8] {
        let data = (b as *const u8).add(32);
        std::slice::from_raw_parts(data, (*b).len)
    }
}

#[repr(C)]
pub struct Ctrl {
    pub type_: c_int,
    pub msg_id: u64,
    pub calldata: u64,
    pub payload: *mut Buf,
    pub signal: c_int,
    pub items: u64,
    pub error: c_int,
    pub permanent: bool,
    pub reason: [c_char; 160],
}

#[repr(C)]
pub struct CreateCtx {
    pub node: *mut Node,
    pub config: *const c_void,
    pub signal: c_int,
}

#[repr(C)]
pub struct StrList {
    pub items: *mut *mut c_char,
    pub n: usize,
}

/// otf_config_field_t (144 bytes).
#[repr(C)]
pub struct ConfigField {
    pub key: *const c_char,
    pub type_: c_int,
    pub offset: usize,
    pub def: *const c_char,
    pub desc: *const c_char,
    pub required: bool,
    pub enum_values: *const *const c_char,
    pub sub: *const ConfigField,
    pub hint: *const c_char,
    pub present_at: usize,
    pub min: *const c_char,
    pub max: *const c_char,
    pub range_why: *const c_char,
    pub ignored: *const c_char,
    pub ext_ref: u8,
    pub elem_size: usize,
    pub parse: usize,   // OTF_CFG_CUSTOM only: not used here
    pub release: usize, // idem
}
unsafe impl Sync for ConfigField {}

type CreateFn = unsafe extern "C" fn(*const CreateCtx, *mut *mut c_void) -> c_int;
type ConsumeFn = unsafe extern "C" fn(*mut c_void, *mut Msg);

/// otf_component_factory_t up to check_wiring: ABI 1.0's first size
/// (OTF_PLUGIN_FACTORY_MIN_SIZE, 184 bytes); the host zero-extends it.
#[repr(C)]
pub struct Factory {
    pub abi_version: u32,
    pub struct_size: u32,
    pub kind: c_int,
    pub type_: *const c_char,
    pub description: *const c_char,
    pub stability: [c_int; 3],
    pub config_schema: *const ConfigField,
    pub config_size: usize,
    pub validate: Option<unsafe extern "C" fn(*const c_void, *mut c_char, usize) -> c_int>,
    pub create: [Option<CreateFn>; 3],
    pub start: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    pub consume: [Option<ConsumeFn>; 3],
    pub control: Option<unsafe extern "C" fn(*mut c_void, *const Ctrl)>,
    pub destroy: Option<unsafe extern "C" fn(*mut c_void)>,
    pub aliases: *const *const c_char,
    pub ports: *const *const c_char,
    pub connector_pairs: [u32; 3],
    pub check_wiring: usize,
}
unsafe impl Sync for Factory {}

type Unused = usize;

/// otf_host_api_t, in declaration order.
#[repr(C)]
pub struct Host {
    pub abi: u32,
    pub struct_size: u32,
    pub register_factory: unsafe extern "C" fn(*mut c_void, *const Factory) -> c_int,
    pub msg_create: unsafe extern "C" fn(*mut Node, c_int, *mut Buf, u64) -> *mut Msg,
    pub msg_id: unsafe extern "C" fn(*const Msg) -> u64,
    pub msg_signal: Unused,
    pub msg_payload: unsafe extern "C" fn(*const Msg) -> *mut Buf,
    pub msg_items: unsafe extern "C" fn(*const Msg) -> u64,
    pub msg_deadline: Unused,
    pub msg_header_get: Unused,
    pub msg_copy_envelope: unsafe extern "C" fn(*mut Msg, *const Msg) -> c_int,
    pub msg_add_source: unsafe extern "C" fn(*mut Msg, u64) -> c_int,
    pub msg_subscribe: unsafe extern "C" fn(*mut Msg, *mut Node, u32, u64) -> c_int,
    pub msg_ack: unsafe extern "C" fn(*mut Msg),
    pub msg_nack: unsafe extern "C" fn(*mut Msg, c_int, bool, *const c_char),
    pub msg_drop: unsafe extern "C" fn(*mut Msg),
    pub msg_ack_async: Unused,
    pub msg_nack_async: Unused,
    pub node_send: unsafe extern "C" fn(*mut Node, *mut Msg) -> c_int,
    pub node_send_port: Unused,
    pub node_port: Unused,
    pub node_name: Unused,
    pub node_worker_index: Unused,
    pub node_timer_start: Unused,
    pub node_timer_stop: Unused,
    pub node_shutdown_done: unsafe extern "C" fn(*mut Node),
    pub node_count: unsafe extern "C" fn(*mut Node, c_int, c_int, u64),
    pub log: unsafe extern "C" fn(*mut Node, c_int, *const c_char),
    pub buf_create: Unused,
    pub buf_create_copy: unsafe extern "C" fn(*const c_void, usize) -> *mut Buf,
    pub buf_ref: Unused,
    pub buf_unref: unsafe extern "C" fn(*mut Buf),
}
