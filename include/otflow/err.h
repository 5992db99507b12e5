/* otflow error codes.
 *
 * Convention (libuv style): 0 is success, a positive value is a count, a
 * negative value is an error. System failures are -errno (for example
 * -ENOMEM from the allocator, -ECONNREFUSED from a socket). otflow's own
 * codes live in [-4999, -4000] so they never collide with -errno values.
 *
 * One X-macro table below defines the enum, otf_err_name() and
 * otf_strerror(); add a code there and both follow.
 *
 * Thread rules: every function here is thread-safe and allocation-free.
 */
#ifndef OTFLOW_ERR_H
#define OTFLOW_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message) */
#define OTF_ERR_TABLE(X)                                                             \
	X(INVAL, -4001, "invalid argument")                                          \
	X(NOMEM, -4002, "out of memory")                                             \
	X(TRUNCATED, -4003, "input ends inside a field")                             \
	X(VARINT, -4004, "malformed varint (more than 10 bytes or overflow)")        \
	X(WIRETYPE, -4005, "wire type does not match the field's type")              \
	X(LENGTH, -4006, "length prefix runs past the end of the enclosing message") \
	X(UTF8, -4007, "string is not valid UTF-8")                                  \
	X(DEPTH, -4008, "nesting deeper than the documented limit")                  \
	X(ID_LENGTH, -4009, "trace id must be 16 bytes and span id 8 bytes")         \
	X(TOO_LARGE, -4010, "input larger than the configured limit")                \
	X(JSON, -4011, "malformed JSON")                                             \
	X(JSON_TYPE, -4012, "JSON value has the wrong type for this field")          \
	X(FIELD_NUMBER, -4013, "invalid field number")                               \
	X(HEX, -4014, "invalid hex id")                                              \
	X(RANGE, -4015, "number out of range for the field")                         \
	X(NOSPACE, -4016, "output buffer too small")                                 \
	X(UNSUPPORTED, -4017, "not supported")                                       \
	X(NOT_FOUND, -4018, "not found")                                             \
	X(CONFIG, -4019, "invalid configuration")                                    \
	X(IO, -4020, "input/output error")

enum otf_err {
	OTF_OK = 0,
#define OTF__ERR_ENUM(name, value, msg) OTF_E_##name = (value),
	OTF_ERR_TABLE(OTF__ERR_ENUM)
#undef OTF__ERR_ENUM
};

/* Symbolic name of an error code: "OTF_E_UTF8", "ENOMEM" (for -ENOMEM),
 * "OK" for 0, "UNKNOWN" otherwise. Never NULL; the string is static. */
const char *otf_err_name(int err);

/* Human-readable message for an error code (our table, or strerror() for
 * -errno). Never NULL; the string is static or thread-local. */
const char *otf_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
