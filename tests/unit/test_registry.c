/* Component registry aliases: a factory's aliases find it like its type,
 * a name (type or alias) taken by another factory of the same kind is
 * refused, other kinds may reuse it, and the built-in OTLP exporters
 * answer to the Collector's lower_snake_case names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/component.h"
#include "otflow/err.h"

#include <errno.h>
#include <string.h>

static const char *const k_alias_a[] = {"thing_new", "thing_v2", NULL};
static const char *const k_alias_clash[] = {"thing_v2", NULL};

static otf_component_factory_t factory(otf_component_kind_t kind, const char *type,
                                       const char *const *aliases)
{
	otf_component_factory_t f;
	memset(&f, 0, sizeof f);
	f.abi_version = OTF_COMPONENT_ABI_VERSION;
	f.struct_size = sizeof f;
	f.kind = kind;
	f.type = type;
	f.description = "test";
	f.aliases = aliases;
	return f;
}

static void test_aliases(void **state)
{
	(void)state;
	static otf_component_factory_t a, clash_type, clash_alias, self, other_kind;
	a = factory(OTF_KIND_PROCESSOR, "thing", k_alias_a);
	assert_int_equal(otf_component_register(&a), 0);
	assert_ptr_equal(otf_component_find(OTF_KIND_PROCESSOR, "thing"), &a);
	assert_ptr_equal(otf_component_find(OTF_KIND_PROCESSOR, "thing_new"), &a);
	assert_ptr_equal(otf_component_find(OTF_KIND_PROCESSOR, "thing_v2"), &a);
	assert_null(otf_component_find(OTF_KIND_EXPORTER, "thing_new"));
	assert_true(otf_component_has_name(&a, "thing_v2"));
	assert_false(otf_component_has_name(&a, "thing_v3"));
	/* A type equal to another factory's alias, or an alias equal to its
	 * type or alias, is refused. */
	clash_type = factory(OTF_KIND_PROCESSOR, "thing_new", NULL);
	assert_int_equal(otf_component_register(&clash_type), -EEXIST);
	clash_alias = factory(OTF_KIND_PROCESSOR, "other", k_alias_clash);
	assert_int_equal(otf_component_register(&clash_alias), -EEXIST);
	static const char *const k_self[] = {"same", NULL};
	self = factory(OTF_KIND_PROCESSOR, "same", k_self);
	assert_int_equal(otf_component_register(&self), -EEXIST);
	/* Names are per kind. */
	other_kind = factory(OTF_KIND_RECEIVER, "thing_new", NULL);
	assert_int_equal(otf_component_register(&other_kind), 0);
}

static void test_builtin_renames(void **state)
{
	(void)state;
	otf_components_register_builtins();
	const otf_component_factory_t *grpc = otf_component_find(OTF_KIND_EXPORTER, "otlp");
	const otf_component_factory_t *http = otf_component_find(OTF_KIND_EXPORTER, "otlphttp");
	assert_non_null(grpc);
	assert_non_null(http);
	assert_ptr_equal(otf_component_find(OTF_KIND_EXPORTER, "otlp_grpc"), grpc);
	assert_ptr_equal(otf_component_find(OTF_KIND_EXPORTER, "otlp_http"), http);
	/* The receiver keeps its one name. */
	assert_null(otf_component_find(OTF_KIND_RECEIVER, "otlp_grpc"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_aliases),
	    cmocka_unit_test(test_builtin_renames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
