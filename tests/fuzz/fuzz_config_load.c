/* libFuzzer target: arbitrary bytes as a configuration file, loaded by the
 * YAML config loader (libyaml events into the node tree, duplicate keys via
 * the mapping index, anchors and aliases, env expansion), then walked: key
 * paths of every node, lookups of every key through the index, the typed
 * scalar readers, and a schema applied to every mapping. Every input must
 * load or fail with a positioned error; nothing may leak or read out of
 * bounds. */
#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include "fuzz_common.h"

typedef struct any_cfg {
	bool b;
	int64_t i, d;
	uint64_t u, z;
	double x;
	char *s;
	int e;
	otf_config_strlist_t l;
	otf_config_strmap_t m;
	struct {
		uint64_t n;
		char *s;
	} o;
} any_cfg_t;

static const char *const k_enum[] = {"a", "b", NULL};
static const otf_config_field_t k_sub[] = {
    {.key = "n", .type = OTF_CFG_UINT, .offset = 0, .min = "1", .max = "100"},
    {.key = "s", .type = OTF_CFG_STRING, .offset = sizeof(uint64_t)},
    OTF_CONFIG_FIELD_END,
};
static const otf_config_field_t k_schema[] = {
    {.key = "b", .type = OTF_CFG_BOOL, .offset = offsetof(any_cfg_t, b)},
    {.key = "i", .type = OTF_CFG_INT, .offset = offsetof(any_cfg_t, i), .min = "-5"},
    {.key = "d", .type = OTF_CFG_DURATION, .offset = offsetof(any_cfg_t, d), .def = "1s"},
    {.key = "u", .type = OTF_CFG_UINT, .offset = offsetof(any_cfg_t, u)},
    {.key = "z", .type = OTF_CFG_SIZE, .offset = offsetof(any_cfg_t, z), .max = "1GiB"},
    {.key = "x", .type = OTF_CFG_DOUBLE, .offset = offsetof(any_cfg_t, x)},
    {.key = "s", .type = OTF_CFG_STRING, .offset = offsetof(any_cfg_t, s), .def = "s"},
    {.key = "e", .type = OTF_CFG_ENUM, .offset = offsetof(any_cfg_t, e), .enum_values = k_enum},
    {.key = "l", .type = OTF_CFG_STRING_LIST, .offset = offsetof(any_cfg_t, l), .def = "p,q"},
    {.key = "m", .type = OTF_CFG_STRING_MAP, .offset = offsetof(any_cfg_t, m), .def = "k=v"},
    {.key = "o", .type = OTF_CFG_OBJECT, .offset = offsetof(any_cfg_t, o), .sub = k_sub},
    OTF_CONFIG_FIELD_END,
};

static void walk(const otf_config_node_t *n, int depth)
{
	FUZZ_CHECK(depth <= 101);
	char path[256];
	otf_config_node_path(n, path, sizeof path);
	FUZZ_CHECK(otf_config_node_line(n) > 0 || depth == 0);
	switch (otf_config_node_kind(n)) {
	case OTF_CONFIG_SCALAR: {
		size_t len;
		const char *s = otf_config_scalar(n, &len);
		FUZZ_CHECK(s && s[len] == '\0');
		bool b;
		int64_t i;
		uint64_t u;
		double d;
		(void)otf_config_read_bool(n, &b, NULL);
		(void)otf_config_read_int64(n, &i, NULL);
		(void)otf_config_read_uint64(n, &u, NULL);
		(void)otf_config_read_double(n, &d, NULL);
		(void)otf_config_read_duration(n, &i, NULL);
		(void)otf_config_read_size(n, &u, NULL);
		break;
	}
	case OTF_CONFIG_SEQUENCE:
		for (size_t i = 0; i < otf_config_len(n); i++)
			walk(otf_config_seq_at(n, i), depth + 1);
		break;
	case OTF_CONFIG_MAPPING: {
		for (size_t i = 0; i < otf_config_len(n); i++) {
			const otf_config_node_t *v;
			const char *k = otf_config_map_at(n, i, &v);
			/* Keys are unique, so the index finds exactly this pair. */
			FUZZ_CHECK(otf_config_map_get(n, k) == v);
			walk(v, depth + 1);
		}
		any_cfg_t c;
		otf_config_error_t err;
		if (otf_config_schema_apply(k_schema, n, &c, &err) == 0)
			otf_config_schema_free(k_schema, &c);
		else
			FUZZ_CHECK(err.text[0] != '\0');
		break;
	}
	case OTF_CONFIG_NULL:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	otf_config_t *cfg = NULL;
	otf_config_error_t err;
	int rc = otf_config_load_string("fuzz.yaml", (const char *)data, size, NULL, &cfg, &err);
	if (rc) {
		FUZZ_CHECK(cfg == NULL);
		FUZZ_CHECK(err.text[0] != '\0');
		return 0;
	}
	const otf_config_node_t *root = otf_config_root(cfg);
	FUZZ_CHECK(otf_config_node_kind(root) == OTF_CONFIG_MAPPING);
	walk(root, 0);
	otf_config_destroy(cfg);
	return 0;
}
