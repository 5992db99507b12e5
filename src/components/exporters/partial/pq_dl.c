/* The table of libpq.so.5's functions (see pq_dl.h). */
#include "pq_dl.h"

#include "core/lazylib.h"

otf__pq_fns_t otf__pq_table;
_Atomic int otf__pq_loaded;

static const char *const k_names[] = {
    "PQclear",          "PQconnectPoll",   "PQconnectStart",    "PQconnectdb",
    "PQconninfoFree",   "PQconninfoParse", "PQconsumeInput",    "PQerrorMessage",
    "PQexec",           "PQexecParams",    "PQfinish",          "PQflush",
    "PQfreemem",        "PQgetResult",     "PQgetlength",       "PQgetvalue",
    "PQisBusy",         "PQnotifies",      "PQntuples",         "PQresultErrorMessage",
    "PQresultStatus",   "PQsendQuery",     "PQsendQueryParams", "PQsetNoticeProcessor",
    "PQsetnonblocking", "PQsocket",        "PQstatus",
};

const otf__pq_fns_t *otf__pq_load(void)
{
	_Static_assert(sizeof k_names / sizeof k_names[0] * sizeof(void (*)(void)) ==
	                   sizeof(otf__pq_fns_t),
	               "one name per table entry");
	otf__lazylib_load("libpq.so.5", "the partial exporter and receiver", k_names,
	                  sizeof k_names / sizeof k_names[0],
	                  (void (**)(void))(void *)&otf__pq_table, &otf__pq_loaded);
	return &otf__pq_table;
}
