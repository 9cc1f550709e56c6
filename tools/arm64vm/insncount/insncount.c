/*
 * insncount: a QEMU TCG plugin that counts the guest instructions a program
 * executes (all vCPUs together) and prints "insns N" at exit. With arguments
 * lo=ADDR,hi=ADDR it also prints "insns_in_range M": the instructions of
 * translation blocks starting in [lo, hi), e.g. the GEMM block kernels. Debian's qemu
 * is built with plugin support but ships no plugins, so we build this one.
 * It uses the stable plugin C API (QEMU_PLUGIN_VERSION 1, qemu >= 4.2); the
 * few declarations it needs are written out below instead of needing
 * qemu-plugin.h, which Debian does not package.
 *
 * Build: gcc -shared -fPIC -O2 -o insncount.so insncount.c
 * Use:   qemu-aarch64 -cpu cortex-a76 -plugin ./insncount.so[,lo=0x..,hi=0x..] -d plugin ./prog
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
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
	char line[96];
	(void)id;
	(void)p;
	snprintf(line, sizeof line, "insns %" PRIu64 "\n", insns);
	qemu_plugin_outs(line);
	if (hi != 0) {
		snprintf(line, sizeof line, "insns_in_range %" PRIu64 "\n", in_range);
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
		if (end == NULL || *end != '\0') {
			fprintf(stderr, "insncount: bad argument %s (want lo=ADDR or hi=ADDR)\n", argv[i]);
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
