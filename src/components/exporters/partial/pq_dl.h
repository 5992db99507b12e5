/* libpq.so.5, loaded at first use instead of at process start (the partial exporter and receiver).
 *
 * otflow links many libraries that only some components use; as DT_NEEDED
 * entries the dynamic loader maps and relocates them, with their own
 * dependency trees and library constructors, in every process, also when
 * no pipeline uses them (docs/benchmarks.md, "memory"). This header is
 * included after <libpq-fe.h>: each function the code calls becomes a call through
 * a table filled by dlopen + dlsym the first time any of them is used
 * (core/lazylib.h). Add a function here (and to the table in pq_dl.c)
 * before calling it. Thread-safe; the table never changes once loaded. A
 * library that cannot be loaded is a fatal error naming it (the Debian
 * package depends on it). Generated list: the functions otflow calls. */
#ifndef OTF_PQ_DL_H
#define OTF_PQ_DL_H

#include <libpq-fe.h>

typedef struct otf__pq_fns {
	__typeof__(PQclear) *PQclear;
	__typeof__(PQconnectPoll) *PQconnectPoll;
	__typeof__(PQconnectStart) *PQconnectStart;
	__typeof__(PQconnectdb) *PQconnectdb;
	__typeof__(PQconninfoFree) *PQconninfoFree;
	__typeof__(PQconninfoParse) *PQconninfoParse;
	__typeof__(PQconsumeInput) *PQconsumeInput;
	__typeof__(PQerrorMessage) *PQerrorMessage;
	__typeof__(PQexec) *PQexec;
	__typeof__(PQexecParams) *PQexecParams;
	__typeof__(PQfinish) *PQfinish;
	__typeof__(PQflush) *PQflush;
	__typeof__(PQfreemem) *PQfreemem;
	__typeof__(PQgetResult) *PQgetResult;
	__typeof__(PQgetlength) *PQgetlength;
	__typeof__(PQgetvalue) *PQgetvalue;
	__typeof__(PQisBusy) *PQisBusy;
	__typeof__(PQnotifies) *PQnotifies;
	__typeof__(PQntuples) *PQntuples;
	__typeof__(PQresultErrorMessage) *PQresultErrorMessage;
	__typeof__(PQresultStatus) *PQresultStatus;
	__typeof__(PQsendQuery) *PQsendQuery;
	__typeof__(PQsendQueryParams) *PQsendQueryParams;
	__typeof__(PQsetNoticeProcessor) *PQsetNoticeProcessor;
	__typeof__(PQsetnonblocking) *PQsetnonblocking;
	__typeof__(PQsocket) *PQsocket;
	__typeof__(PQstatus) *PQstatus;
} otf__pq_fns_t;

extern otf__pq_fns_t otf__pq_table;
extern _Atomic int otf__pq_loaded;
/* Loads the library (once) and returns the table; exits naming the
 * library and the loader's reason when it cannot be loaded. */
const otf__pq_fns_t *otf__pq_load(void);

static inline const otf__pq_fns_t *otf__pq_fns(void)
{
	return __builtin_expect(otf__pq_loaded, 1) ? &otf__pq_table : otf__pq_load();
}

#undef PQclear
#define PQclear (otf__pq_fns()->PQclear)
#undef PQconnectPoll
#define PQconnectPoll (otf__pq_fns()->PQconnectPoll)
#undef PQconnectStart
#define PQconnectStart (otf__pq_fns()->PQconnectStart)
#undef PQconnectdb
#define PQconnectdb (otf__pq_fns()->PQconnectdb)
#undef PQconninfoFree
#define PQconninfoFree (otf__pq_fns()->PQconninfoFree)
#undef PQconninfoParse
#define PQconninfoParse (otf__pq_fns()->PQconninfoParse)
#undef PQconsumeInput
#define PQconsumeInput (otf__pq_fns()->PQconsumeInput)
#undef PQerrorMessage
#define PQerrorMessage (otf__pq_fns()->PQerrorMessage)
#undef PQexec
#define PQexec (otf__pq_fns()->PQexec)
#undef PQexecParams
#define PQexecParams (otf__pq_fns()->PQexecParams)
#undef PQfinish
#define PQfinish (otf__pq_fns()->PQfinish)
#undef PQflush
#define PQflush (otf__pq_fns()->PQflush)
#undef PQfreemem
#define PQfreemem (otf__pq_fns()->PQfreemem)
#undef PQgetResult
#define PQgetResult (otf__pq_fns()->PQgetResult)
#undef PQgetlength
#define PQgetlength (otf__pq_fns()->PQgetlength)
#undef PQgetvalue
#define PQgetvalue (otf__pq_fns()->PQgetvalue)
#undef PQisBusy
#define PQisBusy (otf__pq_fns()->PQisBusy)
#undef PQnotifies
#define PQnotifies (otf__pq_fns()->PQnotifies)
#undef PQntuples
#define PQntuples (otf__pq_fns()->PQntuples)
#undef PQresultErrorMessage
#define PQresultErrorMessage (otf__pq_fns()->PQresultErrorMessage)
#undef PQresultStatus
#define PQresultStatus (otf__pq_fns()->PQresultStatus)
#undef PQsendQuery
#define PQsendQuery (otf__pq_fns()->PQsendQuery)
#undef PQsendQueryParams
#define PQsendQueryParams (otf__pq_fns()->PQsendQueryParams)
#undef PQsetNoticeProcessor
#define PQsetNoticeProcessor (otf__pq_fns()->PQsetNoticeProcessor)
#undef PQsetnonblocking
#define PQsetnonblocking (otf__pq_fns()->PQsetnonblocking)
#undef PQsocket
#define PQsocket (otf__pq_fns()->PQsocket)
#undef PQstatus
#define PQstatus (otf__pq_fns()->PQstatus)

#endif
