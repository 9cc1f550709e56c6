/* Shared by cyclone-peer (C) and fastdds-peer (C++): the command line, JSON output and the
 * deterministic image pattern, so both peers print and send exactly the same things. Header-only
 * (static functions) to keep each build a single compiler call. */
#ifndef PEER_COMMON_H
#define PEER_COMMON_H

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

enum peer_cmd { CMD_NONE, CMD_SUB, CMD_PUB, CMD_CALL_TRIGGER, CMD_SERVE_TRIGGER, CMD_NODES, CMD_TOPICS };

struct peer_opts {
  enum peer_cmd cmd;
  const char *topic;
  const char *type;       /* float32multiarray|image|compressedimage|latent|quality|diagnostics */
  int reliable;           /* 1 reliable (default), 0 best effort */
  int transient_local;    /* 0 volatile (default), 1 transient local */
  int depth;              /* KEEP_LAST depth, default 10 */
  long count;             /* samples/requests to handle; 0: until the timeout */
  double timeout;         /* seconds the command may run, default 30 */
  double rate;            /* pub: samples per second, default 10 */
  float values[4096];
  int nvalues;
  unsigned width, height;
  const char *encoding;
  const char *frame_id;
  const char *service;    /* e.g. /rssmd/reset */
  const char *node;       /* node name announced on ros_discovery_info; "" none */
  const char *ns;         /* its namespace, default "/" */
  const char *message;    /* serve-trigger's reply message */
  int success;            /* serve-trigger's reply success */
  int wait_readers;       /* pub: matched readers to wait for before sending */
  double linger;          /* pub/serve: seconds to wait for acknowledgements at the end */
  const char *expect;     /* nodes/topics: exit 0 as soon as this name is seen */
  int quiet_values;       /* sub: leave the value arrays out of the JSON lines */
  int go_on_stdin;        /* pub: after --wait-readers, wait for a line on stdin before sending */
};

static volatile sig_atomic_t peer_stop;
static int o_go_on_stdin_flag;

static void peer_on_signal(int sig) { (void)sig; peer_stop = 1; }

static int64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
  if (ns <= 0) return;
  struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
  nanosleep(&ts, NULL);
}

/* One JSON object per line, whole lines only: listener threads print too. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

struct jbuf { char *p; size_t n, cap; };

static void jb_grow(struct jbuf *b, size_t more)
{
  if (b->n + more + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap * 2 : 1024;
  while (cap < b->n + more + 1) cap *= 2;
  char *p = (char *)realloc(b->p, cap);
  if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
  b->p = p; b->cap = cap;
}

static void jb_printf(struct jbuf *b, const char *fmt, ...)
{
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if (b->p && b->n + (size_t)k < b->cap) { b->n += (size_t)k; return; }
    jb_grow(b, (size_t)k);
  }
}

static void jb_str(struct jbuf *b, const char *s)
{
  jb_printf(b, "\"");
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') jb_printf(b, "\\%c", c);
    else if (c < 0x20) jb_printf(b, "\\u%04x", c);
    else jb_printf(b, "%c", c);
  }
  jb_printf(b, "\"");
}

/* Floats in full precision (%.9g round-trips a float32); JSON has no NaN/Inf: null. */
static void jb_float(struct jbuf *b, double v)
{
  if (isfinite(v)) jb_printf(b, "%.9g", v); else jb_printf(b, "null");
}

static void jb_floats(struct jbuf *b, const char *key, const float *v, size_t n)
{
  jb_printf(b, ",\"%s\":[", key);
  for (size_t i = 0; i < n; i++) {
    if (i) jb_printf(b, ",");
    jb_float(b, v[i]);
  }
  jb_printf(b, "]");
}

static void jb_hex(struct jbuf *b, const uint8_t *p, size_t n)
{
  jb_printf(b, "\"");
  for (size_t i = 0; i < n; i++) jb_printf(b, "%02x", p[i]);
  jb_printf(b, "\"");
}

static void jb_emit(struct jbuf *b)
{
  pthread_mutex_lock(&out_lock);
  fwrite(b->p, 1, b->n, stdout);
  fputc('\n', stdout);
  fflush(stdout);
  pthread_mutex_unlock(&out_lock);
  free(b->p);
  b->p = NULL; b->n = b->cap = 0;
}

/* Starts a line {"ev":EV,"t_ns":now ...; the caller adds fields and calls jb_emit. */
static void jb_begin(struct jbuf *b, const char *ev)
{
  b->p = NULL; b->n = b->cap = 0;
  jb_printf(b, "{\"ev\":\"%s\",\"t_ns\":%lld", ev, (long long)now_ns());
}

static void jb_end(struct jbuf *b)
{
  jb_printf(b, "}");
  jb_emit(b);
}

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ull; }
  return h;
}

/* Bytes per pixel of the encodings the image test pattern knows. */
static unsigned encoding_bpp(const char *enc)
{
  if (!strcmp(enc, "rgb8") || !strcmp(enc, "bgr8")) return 3;
  if (!strcmp(enc, "rgba8") || !strcmp(enc, "bgra8")) return 4;
  if (!strcmp(enc, "mono8")) return 1;
  if (!strcmp(enc, "mono16")) return 2;
  return 0;
}

/* The image test pattern, which tests recompute: byte x of row y of sample k (k from 0) is
 * (x + 3*y + 7*k) mod 256. */
static void fill_pattern(uint8_t *data, unsigned step, unsigned height, long k)
{
  for (unsigned y = 0; y < height; y++)
    for (unsigned x = 0; x < step; x++)
      data[(size_t)y * step + x] = (uint8_t)(x + 3u * y + 7u * (unsigned long)k);
}

static void usage(const char *prog)
{
  fprintf(stderr,
    "usage: %s sub --topic T --type float32multiarray|image|compressedimage|latent|quality|diagnostics\n"
    "          [--reliability reliable|best_effort] [--durability volatile|transient_local]\n"
    "          [--depth N] [--count N] [--timeout S] [--quiet-values]\n"
    "       %s pub --topic T --type float32multiarray --values 0.1,0.2 | --type image --width W --height H\n"
    "          --encoding rgb8 [--frame-id F] [--rate HZ] [--count N] [--wait-readers N] [--go-on-stdin] [--linger S] [QoS flags]\n"
    "       %s call-trigger --service /rssmd/reset [--timeout S]\n"
    "       %s serve-trigger --service /rssmd/reset [--count N] [--message M] [--success true|false] [--timeout S]\n"
    "       %s nodes [--timeout S] [--expect NAME]\n"
    "       %s topics [--timeout S] [--expect TOPIC]\n"
    "  every command: [--node NAME] [--namespace NS] announces a ROS node on ros_discovery_info\n"
    "  (\"\" for none); ROS_DOMAIN_ID picks the domain.\n",
    prog, prog, prog, prog, prog, prog);
}

static int parse_bool(const char *s, int *out)
{
  if (!strcmp(s, "true") || !strcmp(s, "1")) { *out = 1; return 0; }
  if (!strcmp(s, "false") || !strcmp(s, "0")) { *out = 0; return 0; }
  return -1;
}

/* Parses argv into o; prints what was wrong and returns -1 on a bad command line. */
static int parse_opts(int argc, char **argv, struct peer_opts *o, const char *default_node)
{
  memset(o, 0, sizeof(*o));
  o->reliable = 1; o->depth = 10; o->timeout = 30; o->rate = 10; o->encoding = "rgb8";
  o->frame_id = "camera"; o->node = default_node; o->ns = "/"; o->success = 1;
  o->message = "triggered"; o->linger = 2; o->type = "float32multiarray";
  if (argc < 2) { usage(argv[0]); return -1; }
  const char *c = argv[1];
  if (!strcmp(c, "sub")) o->cmd = CMD_SUB;
  else if (!strcmp(c, "pub")) o->cmd = CMD_PUB;
  else if (!strcmp(c, "call-trigger")) o->cmd = CMD_CALL_TRIGGER;
  else if (!strcmp(c, "serve-trigger")) o->cmd = CMD_SERVE_TRIGGER;
  else if (!strcmp(c, "nodes")) o->cmd = CMD_NODES;
  else if (!strcmp(c, "topics")) o->cmd = CMD_TOPICS;
  else { fprintf(stderr, "unknown command %s\n", c); usage(argv[0]); return -1; }
  for (int i = 2; i < argc; i++) {
    const char *f = argv[i];
    if (!strcmp(f, "--quiet-values")) { o->quiet_values = 1; continue; }
    if (!strcmp(f, "--go-on-stdin")) { o->go_on_stdin = 1; continue; }
    if (i + 1 >= argc) { fprintf(stderr, "flag %s needs a value\n", f); return -1; }
    const char *v = argv[++i];
    char *end = NULL;
    if (!strcmp(f, "--topic")) o->topic = v;
    else if (!strcmp(f, "--type")) o->type = v;
    else if (!strcmp(f, "--reliability")) {
      if (!strcmp(v, "reliable")) o->reliable = 1;
      else if (!strcmp(v, "best_effort")) o->reliable = 0;
      else { fprintf(stderr, "bad --reliability %s\n", v); return -1; }
    } else if (!strcmp(f, "--durability")) {
      if (!strcmp(v, "volatile")) o->transient_local = 0;
      else if (!strcmp(v, "transient_local")) o->transient_local = 1;
      else { fprintf(stderr, "bad --durability %s\n", v); return -1; }
    } else if (!strcmp(f, "--depth")) { o->depth = (int)strtol(v, &end, 10); if (*end || o->depth < 1) goto bad; }
    else if (!strcmp(f, "--count")) { o->count = strtol(v, &end, 10); if (*end || o->count < 0) goto bad; }
    else if (!strcmp(f, "--timeout")) { o->timeout = strtod(v, &end); if (*end || o->timeout <= 0) goto bad; }
    else if (!strcmp(f, "--rate")) { o->rate = strtod(v, &end); if (*end || o->rate <= 0) goto bad; }
    else if (!strcmp(f, "--linger")) { o->linger = strtod(v, &end); if (*end || o->linger < 0) goto bad; }
    else if (!strcmp(f, "--wait-readers")) { o->wait_readers = (int)strtol(v, &end, 10); if (*end || o->wait_readers < 0) goto bad; }
    else if (!strcmp(f, "--width")) { o->width = (unsigned)strtoul(v, &end, 10); if (*end || !o->width) goto bad; }
    else if (!strcmp(f, "--height")) { o->height = (unsigned)strtoul(v, &end, 10); if (*end || !o->height) goto bad; }
    else if (!strcmp(f, "--encoding")) o->encoding = v;
    else if (!strcmp(f, "--frame-id")) o->frame_id = v;
    else if (!strcmp(f, "--service")) o->service = v;
    else if (!strcmp(f, "--node")) o->node = v;
    else if (!strcmp(f, "--namespace")) o->ns = v;
    else if (!strcmp(f, "--message")) o->message = v;
    else if (!strcmp(f, "--expect")) o->expect = v;
    else if (!strcmp(f, "--success")) { if (parse_bool(v, &o->success)) goto bad; }
    else if (!strcmp(f, "--values")) {
      const char *p = v;
      o->nvalues = 0;
      while (*p) {
        if (o->nvalues == (int)(sizeof(o->values) / sizeof(o->values[0]))) { fprintf(stderr, "too many --values\n"); return -1; }
        o->values[o->nvalues++] = strtof(p, &end);
        if (end == p || (*end && *end != ',')) goto bad;
        p = *end ? end + 1 : end;
      }
    } else { fprintf(stderr, "unknown flag %s\n", f); usage(argv[0]); return -1; }
    continue;
  bad:
    fprintf(stderr, "bad value for %s: %s\n", f, v);
    return -1;
  }
  if ((o->cmd == CMD_SUB || o->cmd == CMD_PUB) && !o->topic) { fprintf(stderr, "--topic is required\n"); return -1; }
  if ((o->cmd == CMD_CALL_TRIGGER || o->cmd == CMD_SERVE_TRIGGER) && !o->service) { fprintf(stderr, "--service is required\n"); return -1; }
  if (o->cmd == CMD_PUB) {
    if (!strcmp(o->type, "image")) {
      if (!o->width || !o->height) { fprintf(stderr, "pub --type image needs --width and --height\n"); return -1; }
      if (!encoding_bpp(o->encoding)) { fprintf(stderr, "unknown --encoding %s (rgb8, bgr8, rgba8, bgra8, mono8, mono16)\n", o->encoding); return -1; }
    } else if (strcmp(o->type, "float32multiarray")) {
      fprintf(stderr, "pub knows --type float32multiarray and image, not %s\n", o->type); return -1;
    }
  }
  o_go_on_stdin_flag = o->go_on_stdin;
  signal(SIGINT, peer_on_signal);
  signal(SIGTERM, peer_on_signal);
  return 0;
}

/* --go-on-stdin: a test lets the publisher start only once the subscriber's side has matched
 * too (and, for writers that heartbeat slowly, synchronised); a reliable volatile reader may
 * otherwise skip samples sent before it knew the writer, as Cyclone's and Fast DDS's do. */
static void wait_go(void)
{
  if (!o_go_on_stdin_flag) return;
  char line[64];
  if (!fgets(line, sizeof(line), stdin)) { /* EOF also means go */ }
}

/* ROS service name -> request/reply topic names: /rssmd/reset -> rq/rssmd/resetRequest. */
static void service_topics(const char *service, char *rq, char *rr, size_t n)
{
  const char *s = service[0] == '/' ? service + 1 : service;
  snprintf(rq, n, "rq/%sRequest", s);
  snprintf(rr, n, "rr/%sReply", s);
}

static int domain_id(void)
{
  const char *d = getenv("ROS_DOMAIN_ID");
  if (!d || !*d) return 0;
  char *end;
  long v = strtol(d, &end, 10);
  if (*end || v < 0 || v > 232) { fprintf(stderr, "bad ROS_DOMAIN_ID %s, using 0\n", d); return 0; }
  return (int)v;
}

#ifdef __cplusplus
}
#endif

#endif
