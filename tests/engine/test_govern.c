/*
 * test_govern.c — retention verdicts, holds, encryption requirements and
 * forget plans (DESIGN.md "Combining retention and erasure").
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "tests/engine/harness.h"

#define DAY 86400000000LL
#define YEAR (365 * DAY)

static const char *const rules =
    "policy records_retention {\n"
    "  version 2\n"
    "  scope global\n"
    "  retain port for 7y after event_time then archive when port.tags has \"financial\"\n"
    "  retain column for 365d after event_time then delete when column.tags has \"pii\"\n"
    "  hold port when product.legal_hold\n"
    "  require encryption at_rest on column when column.tags has \"pii\"\n"
    "  require encryption in_transit on port when port.visibility == \"public\"\n"
    "  forget subject within 30d then delete on port when port.subject_key != \"\"\n"
    "  forget subject then anonymize on port when port.tags has \"financial\"\n"
    "}\n"
    "policy local_retention {\n"
    "  retain port for 10y after event_time then delete when port.tags has \"financial\"\n"
    "  retain port for 30d after processing_time then anonymize when port.name == \"stats\"\n"
    "  retain port for 30d after processing_time then delete when port.name == \"stats\"\n"
    "  retain port for 1d after ingest_time then delete when port.name == \"raw\"\n"
    "}\n";

static mg_engine *engine;
static mg_policy_set *set;
static const char *const names[] = { "event_time", "processing_time" };

static void setup(void)
{
    cr_assert_eq(mg_engine_new(NULL, &engine, NULL), MG_OK);
    mg_error err = { 0 };
    cr_assert_eq(h_compile(engine, rules, NULL, NULL, &set, &err), MG_OK, "%s", err.detail ? err.detail : "");
}

static void teardown(void)
{
    mg_policy_set_release(set);
    mg_engine_free(engine);
}

TestSuite(govern, .init = setup, .fini = teardown);

Test(govern, a_global_retention_falls_due_and_a_local_one_cannot_postpone_it)
{
    int64_t times[] = { H_NOW - 8 * YEAR, H_NOW };
    mg_retention r;
    cr_assert_eq(mg_retention_verdict(set, 0, -1, names, times, 2, H_NOW, &r, NULL), MG_OK);
    cr_assert_eq(r.disposal, MG_ARCHIVE);
    cr_assert_eq(r.at_due, MG_ARCHIVE);
    cr_assert_eq(r.due_us, H_NOW - 8 * YEAR + 7 * YEAR);
    cr_assert_str_eq(r.rule, "records_retention@2#1");
    cr_assert_not(r.held);

    times[0] = H_NOW - YEAR;
    cr_assert_eq(mg_retention_verdict(set, 0, -1, names, times, 2, H_NOW, &r, NULL), MG_OK);
    cr_assert_eq(r.disposal, MG_KEEP);
    cr_assert_eq(r.at_due, MG_ARCHIVE);
    cr_assert_eq(r.due_us, H_NOW + 6 * YEAR);
}

Test(govern, local_rules_apply_where_no_global_one_does_and_ties_prefer_anonymize)
{
    int64_t times[] = { H_NOW, H_NOW - 31 * DAY };
    mg_retention r;
    cr_assert_eq(mg_retention_verdict(set, 1, -1, names, times, 2, H_NOW, &r, NULL), MG_OK);
    cr_assert_eq(r.disposal, MG_ANONYMIZE);
    cr_assert_str_eq(r.rule, "local_retention@1#2");
    times[1] = H_NOW - 29 * DAY;
    cr_assert_eq(mg_retention_verdict(set, 1, -1, names, times, 2, H_NOW, &r, NULL), MG_OK);
    cr_assert_eq(r.disposal, MG_KEEP);
    cr_assert_eq(r.due_us, H_NOW + DAY);
}

Test(govern, column_retention_applies_to_tagged_columns)
{
    int64_t times[] = { H_NOW - 2 * YEAR, H_NOW };
    mg_retention r;
    int email = mg_column_id(set, 0, "email"), order_id = mg_column_id(set, 0, "order_id");
    cr_assert_eq(mg_retention_verdict(set, 0, email, names, times, 2, H_NOW, &r, NULL), MG_OK);
    cr_assert_eq(r.disposal, MG_DELETE);
    cr_assert_str_eq(r.rule, "records_retention@2#2");
    cr_assert_eq(mg_retention_verdict(set, 0, order_id, names, times, 2, H_NOW, &r, NULL), MG_OK);
    cr_assert_eq(r.disposal, MG_KEEP);
    cr_assert_eq(r.at_due, MG_KEEP);
    cr_assert_str_eq(r.rule, "");
}

Test(govern, a_missing_time_column_is_an_error_naming_the_rule)
{
    int64_t times[] = { H_NOW, H_NOW };
    mg_retention r;
    mg_error err = { 0 };
    cr_assert_eq(mg_retention_verdict(set, 2, -1, names, times, 2, H_NOW, &r, &err), MG_EEVAL);
    cr_assert_str_eq(err.message, "rule local_retention@1#4: the row has no time column `ingest_time`");
    cr_assert_str_eq(err.file, "test.policy");
    cr_assert_eq(err.line, 16);
    mg_error_clear(&err);
}

Test(govern, a_hold_beats_deletion)
{
    char product[2048];
    snprintf(product, sizeof product, "%s", h_product_yaml);
    char *p = strstr(product, "legal_hold: false");
    cr_assert_not_null(p);
    memcpy(p, "legal_hold: true ", 17);
    mg_policy_set *held;
    cr_assert_eq(h_compile(engine, rules, product, NULL, &held, NULL), MG_OK);
    int64_t times[] = { H_NOW - 8 * YEAR, H_NOW };
    mg_retention r;
    cr_assert_eq(mg_retention_verdict(held, 0, -1, names, times, 2, H_NOW, &r, NULL), MG_OK);
    cr_assert_eq(r.disposal, MG_KEEP);
    cr_assert_eq(r.at_due, MG_ARCHIVE);
    cr_assert(r.held);
    cr_assert_str_eq(r.hold_rule, "records_retention@2#3");
    bool h;
    cr_assert_eq(mg_hold_applies(held, 1, H_NOW, &h, NULL), MG_OK);
    cr_assert(h);
    cr_assert_eq(mg_hold_applies(set, 1, H_NOW, &h, NULL), MG_OK);
    cr_assert_not(h);
    mg_policy_set_release(held);
}

Test(govern, encryption_requirements)
{
    bool rest, transit;
    int email = mg_column_id(set, 0, "email");
    cr_assert_eq(mg_encryption_required(set, 0, email, H_NOW, &rest, &transit, NULL), MG_OK);
    cr_assert(rest && !transit);
    cr_assert_eq(mg_encryption_required(set, 0, -1, H_NOW, &rest, &transit, NULL), MG_OK);
    cr_assert(!rest && !transit);
    cr_assert_eq(mg_encryption_required(set, 1, -1, H_NOW, &rest, &transit, NULL), MG_OK);
    cr_assert(!rest && transit);
    mg_error err = { 0 };
    cr_assert_eq(mg_encryption_required(set, 1, email, H_NOW, &rest, &transit, &err), MG_EINVAL);
    mg_error_clear(&err);
}

Test(govern, forget_plans_delete_beats_anonymize_and_the_earliest_deadline_wins)
{
    mg_forget_plan f;
    cr_assert_eq(mg_forget_plan_of(set, 0, H_NOW, &f, NULL), MG_OK);
    cr_assert(f.covered);
    cr_assert_eq(f.disposal, MG_DELETE);
    cr_assert_eq(f.within_us, 30 * DAY);
    cr_assert_str_eq(f.rule, "records_retention@2#6");
    cr_assert_eq(mg_forget_plan_of(set, 1, H_NOW, &f, NULL), MG_OK);
    cr_assert_not(f.covered);
    cr_assert_eq(f.within_us, -1);
}

/* `unless` excepts what it names, for every rule kind: each rule below
 * applies to every port (or column) but the one its `unless` names. */
Test(govern, unless_excepts_for_every_rule_kind)
{
    static const char *const excepted =
        "policy excepted {\n"
        "  permit read on column\n"
        "  forbid read on column when column.name == \"card\" unless subject.id == \"ann\"\n"
        "  mask column with null when column.tags has \"pii\" unless column.name == \"email\"\n"
        "  retain port for 1d after event_time then delete unless port.name == \"orders\"\n"
        "  hold port when true unless port.name == \"orders\"\n"
        "  require encryption at_rest on port unless port.name == \"orders\"\n"
        "  require encryption in_transit on column unless column.name == \"email\"\n"
        "  forget subject within 30d then delete on port unless port.name == \"orders\"\n"
        "}\n";
    mg_policy_set *ex;
    mg_error err = { 0 };
    cr_assert_eq(h_compile(engine, excepted, NULL, NULL, &ex, &err), MG_OK, "%s",
                 err.detail ? err.detail : "");
    const char *req = "{\"subject\": {\"id\": \"%s\"}, \"action\": \"read\", \"port\": \"orders\","
                      " \"columns\": [\"customer_id\", \"email\", \"card\"]}";
    char r[256];
    snprintf(r, sizeof r, req, "bob");
    cr_assert_str_eq(h_decide(ex, r, NULL),
                     "partial by excepted@1#2 | customer_id=allow/null email=allow card=deny");
    snprintf(r, sizeof r, req, "ann");
    cr_assert_str_eq(h_decide(ex, r, NULL),
                     "allow by excepted@1#1 | customer_id=allow/null email=allow card=allow");

    int64_t times[] = { H_NOW - 2 * DAY, H_NOW };
    mg_retention ret;
    cr_assert_eq(mg_retention_verdict(ex, 0, -1, names, times, 2, H_NOW, &ret, NULL), MG_OK);
    cr_assert_eq(ret.disposal, MG_KEEP);
    cr_assert_str_eq(ret.rule, "");
    cr_assert_not(ret.held);
    cr_assert_eq(mg_retention_verdict(ex, 1, -1, names, times, 2, H_NOW, &ret, NULL), MG_OK);
    cr_assert_eq(ret.disposal, MG_KEEP);    /* due, but held */
    cr_assert_eq(ret.at_due, MG_DELETE);
    cr_assert(ret.held);
    cr_assert_str_eq(ret.hold_rule, "excepted@1#5");

    bool held, rest, transit;
    cr_assert_eq(mg_hold_applies(ex, 0, H_NOW, &held, NULL), MG_OK);
    cr_assert_not(held);
    cr_assert_eq(mg_hold_applies(ex, 2, H_NOW, &held, NULL), MG_OK);
    cr_assert(held);

    int email = mg_column_id(ex, 0, "email"), card = mg_column_id(ex, 0, "card");
    cr_assert_eq(mg_encryption_required(ex, 0, -1, H_NOW, &rest, &transit, NULL), MG_OK);
    cr_assert(!rest && !transit);
    cr_assert_eq(mg_encryption_required(ex, 1, -1, H_NOW, &rest, &transit, NULL), MG_OK);
    cr_assert(rest && !transit);
    cr_assert_eq(mg_encryption_required(ex, 0, email, H_NOW, &rest, &transit, NULL), MG_OK);
    cr_assert(!transit);
    cr_assert_eq(mg_encryption_required(ex, 0, card, H_NOW, &rest, &transit, NULL), MG_OK);
    cr_assert(transit);

    mg_forget_plan f;
    cr_assert_eq(mg_forget_plan_of(ex, 0, H_NOW, &f, NULL), MG_OK);
    cr_assert_not(f.covered);
    cr_assert_eq(mg_forget_plan_of(ex, 1, H_NOW, &f, NULL), MG_OK);
    cr_assert(f.covered);
    cr_assert_eq(f.disposal, MG_DELETE);
    cr_assert_str_eq(f.rule, "excepted@1#8");
    mg_policy_set_release(ex);
}
