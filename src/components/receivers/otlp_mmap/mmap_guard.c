/* SIGBUS containment for the reader's mappings: see mmap_guard.h. */
#include "mmap_guard.h"

#include "otflow/err.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct range {
	uintptr_t start; /* 0: free */
	size_t len;
	volatile sig_atomic_t *flag;
} range_t;

static range_t g_ranges[OTF_MMG_MAX];
static struct sigaction g_prev;
static uintptr_t g_page;
static uint64_t g_faults;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	uintptr_t a = (uintptr_t)si->si_addr;
	for (size_t i = 0; i < OTF_MMG_MAX; i++) {
		uintptr_t s = __atomic_load_n(&g_ranges[i].start, __ATOMIC_ACQUIRE);
		if (!s || a < s || a - s >= __atomic_load_n(&g_ranges[i].len, __ATOMIC_RELAXED))
			continue;
		void *pg = (void *)(a & ~(g_page - 1));
		/* mmap is a plain system call; it is what makes the retried
		 * access succeed. The page reads zeros, which the reader takes
		 * for "not published" or an undecodable record. */
		if (mmap(pg, g_page, PROT_READ | PROT_WRITE,
		         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			break;
		volatile sig_atomic_t *f = __atomic_load_n(&g_ranges[i].flag, __ATOMIC_RELAXED);
		if (f)
			*f = 1;
		__atomic_fetch_add(&g_faults, 1, __ATOMIC_RELAXED);
		return;
	}
	/* Not ours: the previous disposition handles the repeated fault. */
	sigaction(SIGBUS, &g_prev, NULL);
}

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

/* (Re)installs the handler when SIGBUS is not ours (first use, or code
 * that set its own since: that one becomes the fallback). */
static void install(void)
{
	pthread_mutex_lock(&g_mu);
	struct sigaction cur;
	if (!sigaction(SIGBUS, NULL, &cur) &&
	    (!(cur.sa_flags & SA_SIGINFO) || cur.sa_sigaction != on_sigbus)) {
		g_page = (uintptr_t)sysconf(_SC_PAGESIZE);
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_sigbus;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGBUS, &sa, &g_prev);
	}
	pthread_mutex_unlock(&g_mu);
}

int otf__mmg_register(const void *p, size_t len, volatile sig_atomic_t *flag)
{
	install();
	for (size_t i = 0; i < OTF_MMG_MAX; i++) {
		if (__atomic_load_n(&g_ranges[i].start, __ATOMIC_RELAXED))
			continue;
		uintptr_t zero = 0;
		/* Claim the slot with a placeholder start no address matches
		 * before its length is set. */
		if (!__atomic_compare_exchange_n(&g_ranges[i].start, &zero, UINTPTR_MAX, false,
		                                 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&g_ranges[i].len, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&g_ranges[i].flag, flag, __ATOMIC_RELAXED);
		__atomic_store_n(&g_ranges[i].len, len, __ATOMIC_RELAXED);
		__atomic_store_n(&g_ranges[i].start, (uintptr_t)p, __ATOMIC_RELEASE);
		return 0;
	}
	return OTF_E_NOSPACE;
}

void otf__mmg_unregister(const void *p)
{
	for (size_t i = 0; i < OTF_MMG_MAX; i++)
		if (__atomic_load_n(&g_ranges[i].start, __ATOMIC_RELAXED) == (uintptr_t)p) {
			__atomic_store_n(&g_ranges[i].start, 0, __ATOMIC_RELEASE);
			return;
		}
}

uint64_t otf__mmg_faults(void)
{
	return __atomic_load_n(&g_faults, __ATOMIC_RELAXED);
}
