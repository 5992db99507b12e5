/* The push receiver's entry for otf_embedded_push (src/engine/embedded.c). */
#ifndef OTF_PUSH_INTERNAL_H
#define OTF_PUSH_INTERNAL_H

#include "otflow/component.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"
#include "otflow/service.h"

int otf__push(const char *receiver_id, otf_signal_t signal, const void *data, size_t len,
              otf_push_cb cb, void *arg, char *err, size_t errlen);

#endif
