/* Error names and messages from the one table in include/otflow/err.h. */
#include "otflow/err.h"

#include <errno.h>
#include <string.h>

const char *otf_err_name(int err)
{
	switch (err) {
	case OTF_OK:
		return "OK";
#define OTF__ERR_NAME(name, value, msg) \
	case value:                     \
		return "OTF_E_" #name;
		OTF_ERR_TABLE(OTF__ERR_NAME)
#undef OTF__ERR_NAME
	case -ENOMEM:
		return "ENOMEM";
	case -EINVAL:
		return "EINVAL";
	case -ENOENT:
		return "ENOENT";
	case -EACCES:
		return "EACCES";
	case -EAGAIN:
		return "EAGAIN";
	case -EEXIST:
		return "EEXIST";
	case -EIO:
		return "EIO";
	default:
		return "UNKNOWN";
	}
}

const char *otf_strerror(int err)
{
	switch (err) {
	case OTF_OK:
		return "success";
#define OTF__ERR_MSG(name, value, msg) \
	case value:                    \
		return msg;
		OTF_ERR_TABLE(OTF__ERR_MSG)
#undef OTF__ERR_MSG
	default:
		break;
	}
	if (err < 0 && err > -4000) {
		static _Thread_local char buf[128];
		/* GNU strerror_r may return a static string instead of filling buf. */
		const char *s = strerror_r(-err, buf, sizeof buf);
		return s ? s : "unknown system error";
	}
	return "unknown error";
}
