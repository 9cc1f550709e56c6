/*
 * insncount: a QEMU TCG plugin that counts the guest instructions a program
 * executes (all vCPUs together) and prints "insns N" at exit. With arguments
 * lo=ADDR,hi=ADDR it also prints "insns_in_range M": the instructions of
 * translation blocks starting in [lo, hi), e.g. the GEMM block kernels. With
 * syms=FILE (lines "ADDR SIZE NAME", hex address and decimal size as `go tool nm
 * -size` prints them) it prints "sym COUNT NAME" for every symbol whose code ran:
 * the instructions of the translation blocks that start inside it. Debian's qemu
 * is built with plugin support but ships no plugins, so we build this one.
 * It uses the stable plugin C API (QEMU_PLUGIN_VERSION 1, qemu >= 4.2); the
 * few declarations it needs are written out below instead of needing
 * qemu-plugin.h, which Debian does not package.
 *
 * Build: gcc -shared -fPIC -O2 -o insncount.so insncount.c
 * Use:   qemu-aarch64 -cpu cortex-a76 -plugin ./insncount.so[,lo=0x..,hi=0x..][,syms=F] -d plugin ./prog
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
typedef void (*tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*udata_cb_t)(qemu_plugin_id_t id, void *userdata);
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

#define EXPORT __attribute__((visibility("default")))

EXPORT int qemu_plugin_version = 1;

/* One counter: the inline add is not atomic across vCPUs, which is exact for
 * qemu-user with one running thread at a time and close enough otherwise;
 * Go programs are measured with GOMAXPROCS=1. */
static uint64_t insns, in_range;
static uint64_t lo, hi; /* hi == 0: no range */

/* Symbols sorted by address, each with its counter. */
struct sym {
	uint64_t addr, end, count;
	char *name;
};
static struct sym *syms;
static size_t nsyms;

static int by_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int load_syms(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096], name[4000];
	size_t cap = 0;
	if (f == NULL) {
		fprintf(stderr, "insncount: cannot open %s\n", path);
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned long long addr, size;
		if (sscanf(line, "%llx %llu %*s %3999[^\n]", &addr, &size, name) != 3)
			continue; /* headers and symbols without a size */
		if (nsyms == cap) {
			cap = cap ? 2 * cap : 4096;
			syms = realloc(syms, cap * sizeof *syms);
			if (syms == NULL) {
				fclose(f);
				return -1;
			}
		}
		syms[nsyms] = (struct sym){addr, addr + size, 0, strdup(name)};
		nsyms++;
	}
	fclose(f);
	qsort(syms, nsyms, sizeof *syms, by_addr);
	return 0;
}

static struct sym *find_sym(uint64_t pc)
{
	size_t l = 0, h = nsyms;
	while (l < h) { /* first symbol with addr > pc */
		size_t m = (l + h) / 2;
		if (syms[m].addr <= pc)
			l = m + 1;
		else
			h = m;
	}
	if (l == 0 || pc >= syms[l - 1].end)
		return NULL;
	return &syms[l - 1];
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	/* Each execution of this block adds its instruction count. */
	size_t n = qemu_plugin_tb_n_insns(tb);
	uint64_t pc = qemu_plugin_tb_vaddr(tb);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insns, n);
	/* Leaf assembly kernels: a block that starts inside stays inside. */
	if (pc >= lo && pc < hi)
		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &in_range, n);
	struct sym *s = find_sym(pc);
	if (s != NULL)
		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &s->count, n);
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
	char line[4200];
	(void)id;
	(void)p;
	snprintf(line, sizeof line, "insns %" PRIu64 "\n", insns);
	qemu_plugin_outs(line);
	if (hi != 0) {
		snprintf(line, sizeof line, "insns_in_range %" PRIu64 "\n", in_range);
		qemu_plugin_outs(line);
	}
	for (size_t i = 0; i < nsyms; i++) {
		if (syms[i].count == 0)
			continue;
		snprintf(line, sizeof line, "sym %" PRIu64 " %s\n", syms[i].count, syms[i].name);
		qemu_plugin_outs(line);
	}
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	(void)info;
	for (int i = 0; i < argc; i++) {
		char *end = NULL;
		if (strncmp(argv[i], "lo=", 3) == 0)
			lo = strtoull(argv[i] + 3, &end, 0);
		else if (strncmp(argv[i], "hi=", 3) == 0)
			hi = strtoull(argv[i] + 3, &end, 0);
		else if (strncmp(argv[i], "syms=", 5) == 0) {
			if (load_syms(argv[i] + 5) != 0)
				return -1;
			continue;
		}
		if (end == NULL || *end != '\0') {
			fprintf(stderr, "insncount: bad argument %s (want lo=ADDR, hi=ADDR or syms=FILE)\n", argv[i]);
			return -1;
		}
	}
	if (hi != 0 && hi <= lo) {
		fprintf(stderr, "insncount: empty range lo=%#" PRIx64 " hi=%#" PRIx64 "\n", lo, hi);
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
