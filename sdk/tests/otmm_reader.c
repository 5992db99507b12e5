/* See otmm_reader.h. */
#include "otmm_reader.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int rd_open(const char *path, rd_file_t *f)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size < 64) {
		close(fd);
		return -1;
	}
	f->len = (size_t)st.st_size;
	f->map = mmap(NULL, f->len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return f->map == MAP_FAILED ? -1 : 0;
}

void rd_close(rd_file_t *f)
{
	munmap((void *)f->map, f->len);
}

int64_t rd_i64(const rd_file_t *f, uint64_t off)
{
	if (off + 8 > f->len)
		return -1;
	int64_t v;
	memcpy(&v, f->map + off, 8);
	return v;
}

uint64_t rd_ring_off(const rd_file_t *f, int ring)
{
	return (uint64_t)rd_i64(f, 8 + 8 * (uint64_t)ring);
}

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 70 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

static long each(const uint8_t *base, size_t ring_len, int64_t start, int advance, rd_msg_fn fn,
                 void *arg)
{
	int64_t n, b;
	memcpy(&n, base, 8);
	memcpy(&b, base + 8, 8);
	if (n <= 0 || (n & (n - 1)) || b <= 0 || 32 + 4 * (uint64_t)n + (uint64_t)n * b > ring_len)
		return -1;
	unsigned shift = (unsigned)__builtin_ctzll((uint64_t)n);
	_Atomic int32_t *avail = (_Atomic int32_t *)(uintptr_t)(base + 32);
	_Atomic int64_t *reader = (_Atomic int64_t *)(uintptr_t)(base + 16);
	const uint8_t *slots = base + 32 + 4 * n;
	long count = 0;
	for (int64_t s = start;; s++) {
		uint64_t i = (uint64_t)s & (uint64_t)(n - 1);
		int32_t want = (int32_t)(uint32_t)((uint64_t)s >> shift);
		if (atomic_load_explicit(&avail[i], memory_order_acquire) != want)
			break;
		const uint8_t *p = slots + i * (uint64_t)b, *end = p + b;
		uint64_t len;
		if (varint(&p, end, &len) < 0 || len > (uint64_t)(end - p))
			return -1;
		fn(p, len, arg);
		count++;
		if (advance)
			atomic_store_explicit(reader, s, memory_order_release);
	}
	return count;
}

long rd_ring_each(const rd_file_t *f, int ring, rd_msg_fn fn, void *arg)
{
	uint64_t off = rd_ring_off(f, ring);
	uint64_t next = (uint64_t)rd_i64(f, 8 + 8 * (uint64_t)(ring + 1));
	if (off < 64 || off >= f->len)
		return -1;
	int64_t r;
	memcpy(&r, f->map + off + 16, 8);
	return each(f->map + off, (size_t)(next - off), r + 1, 0, fn, arg);
}

long rd_ring_drain(uint8_t *map, int ring, rd_msg_fn fn, void *arg)
{
	int64_t off, next;
	memcpy(&off, map + 8 + 8 * ring, 8);
	memcpy(&next, map + 16 + 8 * ring, 8);
	_Atomic int64_t *reader = (_Atomic int64_t *)(uintptr_t)(map + off + 16);
	int64_t r = atomic_load_explicit(reader, memory_order_acquire);
	return each(map + off, (size_t)(next - off), r + 1, 1, fn, arg);
}

int rd_next(const uint8_t **p, const uint8_t *end, rd_field_t *fl)
{
	if (*p >= end)
		return 0;
	uint64_t tag;
	if (varint(p, end, &tag) < 0)
		return -1;
	memset(fl, 0, sizeof(*fl));
	fl->num = (uint32_t)(tag >> 3);
	fl->wt = (uint32_t)(tag & 7);
	switch (fl->wt) {
	case 0:
		return varint(p, end, &fl->v) < 0 ? -1 : 1;
	case 1:
		if (end - *p < 8)
			return -1;
		memcpy(&fl->v, *p, 8);
		*p += 8;
		return 1;
	case 5: {
		if (end - *p < 4)
			return -1;
		uint32_t v;
		memcpy(&v, *p, 4);
		fl->v = v;
		*p += 4;
		return 1;
	}
	case 2: {
		uint64_t n;
		if (varint(p, end, &n) < 0 || n > (uint64_t)(end - *p))
			return -1;
		fl->p = *p;
		fl->n = (size_t)n;
		*p += n;
		return 1;
	}
	default:
		return -1;
	}
}

int rd_get(const uint8_t *msg, size_t n, uint32_t num, rd_field_t *fl)
{
	const uint8_t *p = msg, *end = msg + n;
	int rc;
	while ((rc = rd_next(&p, end, fl)) == 1)
		if (fl->num == num)
			return 1;
	return 0;
}

const uint8_t *rd_dict(const rd_file_t *f, int64_t ref, size_t *n)
{
	int64_t dict = rd_i64(f, 32);
	if (ref < dict + 64 || (uint64_t)ref >= f->len)
		return NULL;
	const uint8_t *p = f->map + ref, *end = f->map + f->len;
	uint64_t len;
	if (varint(&p, end, &len) < 0 || len > (uint64_t)(end - p))
		return NULL;
	*n = (size_t)len;
	return p;
}

int rd_dict_streq(const rd_file_t *f, int64_t ref, const char *s)
{
	size_t n;
	const uint8_t *p = rd_dict(f, ref, &n);
	return p && n == strlen(s) && memcmp(p, s, n) == 0;
}

int rd_attr(const rd_file_t *f, const uint8_t *msg, size_t n, uint32_t field, const char *key,
            rd_field_t *anyvalue)
{
	const uint8_t *p = msg, *end = msg + n;
	rd_field_t fl, k, v;
	int found = 0;
	while (rd_next(&p, end, &fl) == 1) {
		if (fl.num != field || fl.wt != 2)
			continue;
		if (rd_get(fl.p, fl.n, 1, &k) && rd_dict_streq(f, (int64_t)k.v, key) &&
		    rd_get(fl.p, fl.n, 2, &v)) {
			*anyvalue = v; /* the last one wins */
			found = 1;
		}
	}
	return found;
}
