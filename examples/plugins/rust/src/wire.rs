//! A minimal protobuf wire walker: rewrites an ExportLogsServiceRequest,
//! dropping the KeyValue attributes (LogRecord field 6) whose key the
//! caller rejects, and re-deriving every enclosing length. Unknown fields
//! are copied as they are; malformed input is an error (never a panic).

pub struct Rewrite {
    pub out: Vec<u8>,
    pub dropped: u64,
}

fn varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let c = *b.get(*at)?;
        *at += 1;
        v |= ((c & 0x7f) as u64) << shift;
        if c & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// One field: (number, wire type, whole field bytes, payload range for
/// length-delimited fields).
struct Field<'a> {
    num: u64,
    wt: u64,
    whole: &'a [u8],
    body: &'a [u8],
}

fn next<'a>(b: &'a [u8], at: &mut usize) -> Option<Field<'a>> {
    let start = *at;
    let tag = varint(b, at)?;
    let (num, wt) = (tag >> 3, tag & 7);
    let body_start;
    match wt {
        0 => {
            varint(b, at)?;
            body_start = *at;
        }
        1 => {
            *at = at.checked_add(8)?;
            body_start = *at;
        }
        5 => {
            *at = at.checked_add(4)?;
            body_start = *at;
        }
        2 => {
            let n = varint(b, at)? as usize;
            body_start = *at;
            *at = at.checked_add(n)?;
        }
        _ => return None,
    }
    if *at > b.len() {
        return None;
    }
    let body = if wt == 2 { &b[body_start..*at] } else { &b[*at..*at] };
    Some(Field { num, wt, whole: &b[start..*at], body })
}

/// Copies msg, replacing each length-delimited field `num` in `descend` by
/// what `f` makes of its body (None: the field is dropped).
fn map_fields<F>(msg: &[u8], out: &mut Vec<u8>, mut f: F) -> Option<()>
where
    F: FnMut(u64, &[u8], &mut Vec<u8>) -> Option<Option<()>>,
{
    let mut at = 0;
    let mut tmp = Vec::new();
    while at < msg.len() {
        let fld = next(msg, &mut at)?;
        if fld.wt != 2 {
            out.extend_from_slice(fld.whole);
            continue;
        }
        tmp.clear();
        match f(fld.num, fld.body, &mut tmp)? {
            None => {} // dropped
            Some(()) => {
                put_varint(out, (fld.num << 3) | 2);
                put_varint(out, tmp.len() as u64);
                out.extend_from_slice(&tmp);
            }
        }
    }
    Some(())
}

fn kv_key(kv: &[u8]) -> Option<&[u8]> {
    let mut at = 0;
    while at < kv.len() {
        let f = next(kv, &mut at)?;
        if f.num == 1 && f.wt == 2 {
            return Some(f.body);
        }
    }
    Some(b"")
}

pub fn drop_log_attributes(req: &[u8], reject: &dyn Fn(&[u8]) -> bool) -> Option<Rewrite> {
    let mut dropped = 0u64;
    let mut out = Vec::with_capacity(req.len());
    // ExportLogsServiceRequest.resource_logs = 1 -> ResourceLogs.scope_logs
    // = 2 -> ScopeLogs.log_records = 2 -> LogRecord.attributes = 6.
    map_fields(req, &mut out, |n, rl, o| {
        if n != 1 {
            o.extend_from_slice(rl);
            return Some(Some(()));
        }
        map_fields(rl, o, |n, sl, o| {
            if n != 2 {
                o.extend_from_slice(sl);
                return Some(Some(()));
            }
            map_fields(sl, o, |n, lr, o| {
                if n != 2 {
                    o.extend_from_slice(lr);
                    return Some(Some(()));
                }
                map_fields(lr, o, |n, kv, o| {
                    if n == 6 && reject(kv_key(kv)?) {
                        dropped += 1;
                        return Some(None);
                    }
                    o.extend_from_slice(kv);
                    Some(Some(()))
                })?;
                Some(Some(()))
            })?;
            Some(Some(()))
        })?;
        Some(Some(()))
    })?;
    Some(Rewrite { out, dropped })
}
