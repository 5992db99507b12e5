#ifndef EMBEDGO_BRIDGE_H
#define EMBEDGO_BRIDGE_H
#include "otflow/service.h"

#include <stdint.h>

int bridge_push(otf_embedded_t *e, const char *receiver, const void *data, size_t len,
                uintptr_t token, char *err, size_t errlen);
#endif
