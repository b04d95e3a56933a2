/*
 * test_regress.c — inputs the fuzzer found, each with its exact outcome.
 * Run under ASan (make check), a leak fails the test.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "engine/manifest.h"

/* A schema attribute whose name is not an identifier leaked the name. */
Test(regress, a_bad_schema_attribute_name_is_an_error_without_a_leak)
{
    const char *yaml = "mesh: acme\n"
                       "schema:\n"
                       "  subject: { id: string, clearanc(: int }\n";
    mf_mesh *m = NULL;
    mg_error err = { 0 };
    cr_assert_eq(mf_mesh_parse("mesh.yaml", yaml, strlen(yaml), &m, &err), MG_EMANIFEST);
    cr_assert_null(m);
    cr_assert_str_eq(err.message,
                     "invalid attribute name `clearanc(`: use letters, digits and `_`, not starting with a digit");
    cr_assert_eq(err.line, 3);
    cr_assert_eq(err.column, 26);
    mg_error_clear(&err);
}
