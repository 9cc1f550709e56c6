/*
 * insncount: a QEMU TCG plugin that counts the guest instructions a program
 * executes (all vCPUs together) and prints "insns N" at exit. Debian's qemu
 * is built with plugin support but ships no plugins, so we build this one.
 * It uses the stable plugin C API (QEMU_PLUGIN_VERSION 1, qemu >= 4.2); the
 * few declarations it needs are written out below instead of needing
 * qemu-plugin.h, which Debian does not package.
 *
 * Build: gcc -shared -fPIC -O2 -o insncount.so insncount.c
 * Use:   qemu-aarch64 -cpu cortex-a76 -plugin ./insncount.so -d plugin ./prog
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
typedef void (*tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*udata_cb_t)(qemu_plugin_id_t id, void *userdata);
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

#define EXPORT __attribute__((visibility("default")))

EXPORT int qemu_plugin_version = 1;

/* One counter: the inline add is not atomic across vCPUs, which is exact for
 * qemu-user with one running thread at a time and close enough otherwise;
 * Go programs are measured with GOMAXPROCS=1. */
static uint64_t insns;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	/* Each execution of this block adds its instruction count. */
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insns,
	                                         qemu_plugin_tb_n_insns(tb));
}

static void on_exit(qemu_plugin_id_t id, void *p)
{
	char line[64];
	(void)id;
	(void)p;
	snprintf(line, sizeof line, "insns %" PRIu64 "\n", insns);
	qemu_plugin_outs(line);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	(void)info;
	(void)argc;
	(void)argv;
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, on_exit, NULL);
	return 0;
}
