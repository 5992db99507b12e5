/* The one object of libotflow.so of its own: everything else is
 * otflow_lib, linked whole. */
#include "otflow/service.h"

const char *otf_library_version(void)
{
	return OTF_VERSION;
}
