/* cyclone-peer: a ROS 2-shaped DDS peer on Cyclone DDS's C API (the DDS behind
 * rmw_cyclonedds), for rssmd's interop tests. Types come from idlc (idl/ros2.idl,
 * idl/srv_cyclone.idl); the command line and output are shared with fastdds-peer
 * (peer_common.h). See ../README.md. */
#include <inttypes.h>

#include "dds/dds.h"
#include "peer_common.h"
#include "ros2.h"
#include "srv_cyclone.h"

static struct peer_opts o;
static dds_entity_t pp;

static void die(const char *what, dds_return_t rc)
{
  fprintf(stderr, "cyclone-peer: %s: %s\n", what, dds_strretcode(rc));
  exit(1);
}

static void jb_guid(struct jbuf *b, const char *key, const dds_guid_t *g)
{
  jb_printf(b, ",\"%s\":", key);
  jb_hex(b, g->v, 16);
}

static dds_qos_t *endpoint_qos(int reliable, int transient_local, int depth)
{
  dds_qos_t *q = dds_create_qos();
  dds_qset_reliability(q, reliable ? DDS_RELIABILITY_RELIABLE : DDS_RELIABILITY_BEST_EFFORT, DDS_SECS(1));
  dds_qset_durability(q, transient_local ? DDS_DURABILITY_TRANSIENT_LOCAL : DDS_DURABILITY_VOLATILE);
  dds_qset_history(q, DDS_HISTORY_KEEP_LAST, depth);
  return q;
}

/* ---- matching events ---- */

static void on_sub_matched(dds_entity_t rd, const dds_subscription_matched_status_t st, void *arg)
{
  (void)arg;
  struct jbuf b;
  jb_begin(&b, st.current_count_change >= 0 ? "matched" : "unmatched");
  jb_printf(&b, ",\"remote\":\"writer\",\"count\":%u", st.current_count);
  dds_builtintopic_endpoint_t *ep = dds_get_matched_publication_data(rd, st.last_publication_handle);
  if (ep) { jb_guid(&b, "guid", &ep->key); dds_builtintopic_free_endpoint(ep); }
  jb_end(&b);
}

static void on_pub_matched(dds_entity_t wr, const dds_publication_matched_status_t st, void *arg)
{
  (void)arg;
  struct jbuf b;
  jb_begin(&b, st.current_count_change >= 0 ? "matched" : "unmatched");
  jb_printf(&b, ",\"remote\":\"reader\",\"count\":%u", st.current_count);
  dds_builtintopic_endpoint_t *ep = dds_get_matched_subscription_data(wr, st.last_subscription_handle);
  if (ep) { jb_guid(&b, "guid", &ep->key); dds_builtintopic_free_endpoint(ep); }
  jb_end(&b);
}

static dds_listener_t *match_listener(void)
{
  dds_listener_t *l = dds_create_listener(NULL);
  dds_lset_subscription_matched(l, on_sub_matched);
  dds_lset_publication_matched(l, on_pub_matched);
  return l;
}

/* ---- the ROS graph: ros_discovery_info ---- */

#define MAX_ENTS 8
static dds_guid_t node_readers[MAX_ENTS], node_writers[MAX_ENTS];
static int n_node_readers, n_node_writers;

static void track(dds_entity_t e, int is_reader)
{
  dds_guid_t g;
  if (dds_get_guid(e, &g) != DDS_RETCODE_OK) return;
  if (is_reader && n_node_readers < MAX_ENTS) node_readers[n_node_readers++] = g;
  if (!is_reader && n_node_writers < MAX_ENTS) node_writers[n_node_writers++] = g;
}

/* Announces this process as one ROS node, as rmw_dds_common's graph cache does: one
 * ParticipantEntitiesInfo (reliable, transient local, keep last 1) on ros_discovery_info. */
static void announce_node(void)
{
  if (!o.node || !*o.node) return;
  dds_entity_t tp = dds_create_topic(pp, &rmw_dds_common_msg_dds__ParticipantEntitiesInfo__desc, "ros_discovery_info", NULL, NULL);
  if (tp < 0) die("create ros_discovery_info topic", tp);
  dds_qos_t *q = endpoint_qos(1, 1, 1);
  dds_entity_t wr = dds_create_writer(pp, tp, q, NULL);
  dds_delete_qos(q);
  if (wr < 0) die("create ros_discovery_info writer", wr);
  rmw_dds_common_msg_dds__ParticipantEntitiesInfo_ m;
  memset(&m, 0, sizeof(m));
  dds_guid_t g;
  dds_get_guid(pp, &g);
  memcpy(m.gid_.data_, g.v, 16);
  rmw_dds_common_msg_dds__NodeEntitiesInfo_ n;
  memset(&n, 0, sizeof(n));
  snprintf(n.node_namespace_, sizeof(n.node_namespace_), "%s", o.ns);
  snprintf(n.node_name_, sizeof(n.node_name_), "%s", o.node);
  rmw_dds_common_msg_dds__Gid_ rg[MAX_ENTS], wg[MAX_ENTS];
  for (int i = 0; i < n_node_readers; i++) memcpy(rg[i].data_, node_readers[i].v, 16);
  for (int i = 0; i < n_node_writers; i++) memcpy(wg[i].data_, node_writers[i].v, 16);
  n.reader_gid_seq_._buffer = rg; n.reader_gid_seq_._length = n.reader_gid_seq_._maximum = (uint32_t)n_node_readers;
  n.writer_gid_seq_._buffer = wg; n.writer_gid_seq_._length = n.writer_gid_seq_._maximum = (uint32_t)n_node_writers;
  m.node_entities_info_seq_._buffer = &n;
  m.node_entities_info_seq_._length = m.node_entities_info_seq_._maximum = 1;
  dds_return_t rc = dds_write(wr, &m);
  if (rc < 0) die("write ros_discovery_info", rc);
}

/* ---- sub ---- */

static void jb_stamp(struct jbuf *b, const builtin_interfaces_msg_dds__Time_ *t, const char *frame_id)
{
  jb_printf(b, ",\"stamp_ns\":%lld,\"frame_id\":", (long long)t->sec_ * 1000000000 + t->nanosec_);
  jb_str(b, frame_id);
}

static void print_sample(const void *s, const dds_sample_info_t *info)
{
  struct jbuf b;
  jb_begin(&b, "sample");
  jb_printf(&b, ",\"src_ns\":%lld", (long long)info->source_timestamp);
  if (!strcmp(o.type, "float32multiarray")) {
    const std_msgs_msg_dds__Float32MultiArray_ *m = s;
    jb_printf(&b, ",\"dims\":[");
    for (uint32_t i = 0; i < m->layout_.dim_._length; i++) {
      const std_msgs_msg_dds__MultiArrayDimension_ *d = &m->layout_.dim_._buffer[i];
      jb_printf(&b, "%s{\"label\":", i ? "," : "");
      jb_str(&b, d->label_);
      jb_printf(&b, ",\"size\":%u,\"stride\":%u}", d->size_, d->stride_);
    }
    jb_printf(&b, "],\"data_offset\":%u,\"n\":%u", m->layout_.data_offset_, m->data_._length);
    if (!o.quiet_values) jb_floats(&b, "values", m->data_._buffer, m->data_._length);
  } else if (!strcmp(o.type, "image")) {
    const sensor_msgs_msg_dds__Image_ *m = s;
    jb_stamp(&b, &m->header_.stamp_, m->header_.frame_id_);
    jb_printf(&b, ",\"width\":%u,\"height\":%u,\"encoding\":", m->width_, m->height_);
    jb_str(&b, m->encoding_);
    jb_printf(&b, ",\"is_bigendian\":%u,\"step\":%u,\"size\":%u,\"fnv1a\":\"%016" PRIx64 "\",\"head\":",
              m->is_bigendian_, m->step_, m->data_._length, fnv1a64(m->data_._buffer, m->data_._length));
    jb_hex(&b, m->data_._buffer, m->data_._length < 16 ? m->data_._length : 16);
  } else if (!strcmp(o.type, "compressedimage")) {
    const sensor_msgs_msg_dds__CompressedImage_ *m = s;
    jb_stamp(&b, &m->header_.stamp_, m->header_.frame_id_);
    jb_printf(&b, ",\"format\":");
    jb_str(&b, m->format_);
    jb_printf(&b, ",\"size\":%u,\"fnv1a\":\"%016" PRIx64 "\",\"head\":", m->data_._length, fnv1a64(m->data_._buffer, m->data_._length));
    jb_hex(&b, m->data_._buffer, m->data_._length < 16 ? m->data_._length : 16);
  } else if (!strcmp(o.type, "latent")) {
    const rssmd_msgs_msg_dds__LatentState_ *m = s;
    jb_stamp(&b, &m->header_.stamp_, m->header_.frame_id_);
    jb_printf(&b, ",\"tick\":%" PRIu64 ",\"seq\":%" PRIu64, m->tick_, m->seq_);
    if (!o.quiet_values) {
      jb_floats(&b, "deter", m->deter_._buffer, m->deter_._length);
      jb_floats(&b, "stoch_mean", m->stoch_mean_._buffer, m->stoch_mean_._length);
      jb_floats(&b, "stoch_std", m->stoch_std_._buffer, m->stoch_std_._length);
      jb_floats(&b, "prior_mean", m->prior_mean_._buffer, m->prior_mean_._length);
      jb_floats(&b, "prior_std", m->prior_std_._buffer, m->prior_std_._length);
    }
    jb_printf(&b, ",\"kl\":"); jb_float(&b, m->kl_);
    jb_printf(&b, ",\"elbo\":"); jb_float(&b, m->elbo_);
    jb_printf(&b, ",\"is_first\":%s,\"stale_frame\":%s,\"stale_action\":%s,\"anomaly\":%s",
              m->is_first_ ? "true" : "false", m->stale_frame_ ? "true" : "false",
              m->stale_action_ ? "true" : "false", m->anomaly_ ? "true" : "false");
  } else if (!strcmp(o.type, "quality")) {
    const rssmd_msgs_msg_dds__Quality_ *m = s;
    jb_stamp(&b, &m->header_.stamp_, m->header_.frame_id_);
    jb_printf(&b, ",\"tick\":%" PRIu64 ",\"decoded\":%s", m->tick_, m->decoded_ ? "true" : "false");
    jb_printf(&b, ",\"mse\":"); jb_float(&b, m->mse_);
    jb_printf(&b, ",\"psnr\":"); jb_float(&b, m->psnr_);
    jb_printf(&b, ",\"kl\":"); jb_float(&b, m->kl_);
    jb_printf(&b, ",\"elbo\":"); jb_float(&b, m->elbo_);
    jb_printf(&b, ",\"zscore\":"); jb_float(&b, m->zscore_);
    jb_printf(&b, ",\"zscore_kl\":"); jb_float(&b, m->zscore_kl_);
    jb_printf(&b, ",\"anomaly\":%s", m->anomaly_ ? "true" : "false");
  } else if (!strcmp(o.type, "diagnostics")) {
    const diagnostic_msgs_msg_dds__DiagnosticArray_ *m = s;
    jb_stamp(&b, &m->header_.stamp_, m->header_.frame_id_);
    jb_printf(&b, ",\"status\":[");
    for (uint32_t i = 0; i < m->status_._length; i++) {
      const diagnostic_msgs_msg_dds__DiagnosticStatus_ *st = &m->status_._buffer[i];
      jb_printf(&b, "%s{\"level\":%u,\"name\":", i ? "," : "", st->level_);
      jb_str(&b, st->name_);
      jb_printf(&b, ",\"message\":"); jb_str(&b, st->message_);
      jb_printf(&b, ",\"hardware_id\":"); jb_str(&b, st->hardware_id_);
      jb_printf(&b, ",\"values\":{");
      for (uint32_t k = 0; k < st->values_._length; k++) {
        if (k) jb_printf(&b, ",");
        jb_str(&b, st->values_._buffer[k].key_);
        jb_printf(&b, ":");
        jb_str(&b, st->values_._buffer[k].value_);
      }
      jb_printf(&b, "}}");
    }
    jb_printf(&b, "]");
  }
  jb_end(&b);
}

static const dds_topic_descriptor_t *sub_desc(const char *type)
{
  if (!strcmp(type, "float32multiarray")) return &std_msgs_msg_dds__Float32MultiArray__desc;
  if (!strcmp(type, "image")) return &sensor_msgs_msg_dds__Image__desc;
  if (!strcmp(type, "compressedimage")) return &sensor_msgs_msg_dds__CompressedImage__desc;
  if (!strcmp(type, "latent")) return &rssmd_msgs_msg_dds__LatentState__desc;
  if (!strcmp(type, "quality")) return &rssmd_msgs_msg_dds__Quality__desc;
  if (!strcmp(type, "diagnostics")) return &diagnostic_msgs_msg_dds__DiagnosticArray__desc;
  return NULL;
}

static int cmd_sub(void)
{
  const dds_topic_descriptor_t *desc = sub_desc(o.type);
  if (!desc) { fprintf(stderr, "cyclone-peer: unknown --type %s\n", o.type); return 1; }
  dds_entity_t tp = dds_create_topic(pp, desc, o.topic, NULL, NULL);
  if (tp < 0) die("create topic", tp);
  dds_qos_t *q = endpoint_qos(o.reliable, o.transient_local, o.depth);
  dds_listener_t *l = match_listener();
  dds_entity_t rd = dds_create_reader(pp, tp, q, l);
  dds_delete_qos(q);
  dds_delete_listener(l);
  if (rd < 0) die("create reader", rd);
  track(rd, 1);
  announce_node();
  dds_entity_t ws = dds_create_waitset(pp);
  dds_entity_t rc = dds_create_readcondition(rd, DDS_ANY_STATE);
  dds_waitset_attach(ws, rc, rd);
  int64_t deadline = now_ns() + (int64_t)(o.timeout * 1e9);
  long got = 0;
  while (!peer_stop && (o.count == 0 || got < o.count)) {
    int64_t left = deadline - now_ns();
    if (left <= 0) break;
    dds_waitset_wait(ws, NULL, 0, left < DDS_MSECS(200) ? left : DDS_MSECS(200));
    void *samples[1] = { NULL };
    dds_sample_info_t infos[1];
    dds_return_t n;
    while ((o.count == 0 || got < o.count) && (n = dds_take(rd, samples, infos, 1, 1)) > 0) {
      if (infos[0].valid_data) { print_sample(samples[0], &infos[0]); got++; }
      dds_return_loan(rd, samples, n);
      samples[0] = NULL;
    }
  }
  if (o.count && got < o.count && !peer_stop) {
    fprintf(stderr, "cyclone-peer: timeout after %.1f s: %ld of %ld samples on %s\n", o.timeout, got, o.count, o.topic);
    return 1;
  }
  return 0;
}

/* ---- pub ---- */

static int wait_matched_readers(dds_entity_t wr, int n, int64_t deadline)
{
  while (!peer_stop && now_ns() < deadline) {
    dds_publication_matched_status_t st;
    if (dds_get_publication_matched_status(wr, &st) == DDS_RETCODE_OK && (int)st.current_count >= n) return 0;
    sleep_ns(DDS_MSECS(10));
  }
  return -1;
}

static int cmd_pub(void)
{
  int image = !strcmp(o.type, "image");
  dds_entity_t tp = dds_create_topic(pp, image ? &sensor_msgs_msg_dds__Image__desc : &std_msgs_msg_dds__Float32MultiArray__desc, o.topic, NULL, NULL);
  if (tp < 0) die("create topic", tp);
  dds_qos_t *q = endpoint_qos(o.reliable, o.transient_local, o.depth);
  dds_listener_t *l = match_listener();
  dds_entity_t wr = dds_create_writer(pp, tp, q, l);
  dds_delete_qos(q);
  dds_delete_listener(l);
  if (wr < 0) die("create writer", wr);
  track(wr, 0);
  announce_node();
  int64_t deadline = now_ns() + (int64_t)(o.timeout * 1e9);
  if (o.wait_readers && wait_matched_readers(wr, o.wait_readers, deadline)) {
    fprintf(stderr, "cyclone-peer: timeout: no %d matched reader(s) on %s within %.1f s\n", o.wait_readers, o.topic, o.timeout);
    return 1;
  }
  wait_go();
  if (o.go_on_stdin) deadline = now_ns() + (int64_t)(o.timeout * 1e9);
  sensor_msgs_msg_dds__Image_ img;
  std_msgs_msg_dds__Float32MultiArray_ arr;
  std_msgs_msg_dds__MultiArrayDimension_ dim;
  memset(&img, 0, sizeof(img));
  memset(&arr, 0, sizeof(arr));
  if (image) {
    unsigned step = o.width * encoding_bpp(o.encoding);
    img.height_ = o.height; img.width_ = o.width; img.step_ = step;
    img.encoding_ = (char *)o.encoding; img.header_.frame_id_ = (char *)o.frame_id;
    img.data_._length = img.data_._maximum = step * o.height;
    img.data_._buffer = malloc(img.data_._length);
  } else {
    dim.label_ = "x"; dim.size_ = (uint32_t)o.nvalues; dim.stride_ = (uint32_t)o.nvalues;
    arr.layout_.dim_._buffer = &dim; arr.layout_.dim_._length = arr.layout_.dim_._maximum = 1;
    arr.data_._buffer = o.values; arr.data_._length = arr.data_._maximum = (uint32_t)o.nvalues;
  }
  int64_t period = (int64_t)(1e9 / o.rate), next = now_ns();
  for (long k = 0; !peer_stop && (o.count == 0 || k < o.count); k++) {
    if (now_ns() >= deadline) break;
    sleep_ns(next - now_ns());
    next += period;
    struct jbuf b;
    int64_t t = now_ns();
    dds_return_t rc;
    if (image) {
      fill_pattern(img.data_._buffer, img.step_, img.height_, k);
      img.header_.stamp_.sec_ = (int32_t)(t / 1000000000);
      img.header_.stamp_.nanosec_ = (uint32_t)(t % 1000000000);
      rc = dds_write_ts(wr, &img, t);
      jb_begin(&b, "sent");
      jb_printf(&b, ",\"k\":%ld,\"src_ns\":%lld,\"stamp_ns\":%lld,\"fnv1a\":\"%016" PRIx64 "\"", k, (long long)t, (long long)t,
                fnv1a64(img.data_._buffer, img.data_._length));
    } else {
      rc = dds_write_ts(wr, &arr, t);
      jb_begin(&b, "sent");
      jb_printf(&b, ",\"k\":%ld,\"src_ns\":%lld", k, (long long)t);
    }
    if (rc < 0) { free(b.p); die("write", rc); }
    jb_end(&b);
  }
  if (o.reliable && o.linger > 0) dds_wait_for_acks(wr, (dds_duration_t)(o.linger * 1e9));
  return 0;
}

/* ---- services (rmw_cyclonedds conventions) ---- */

/* rmw_cyclonedds tags a client's/service's endpoints with USER_DATA "clientid=<id>;" or
 * "serviceid=<id>;" (id: the participant's GUID prefix + a counter, bytes in hex joined by '.')
 * so a service can tell whether the requesting client's reply reader has been matched. */
static void set_csid_userdata(dds_qos_t *q, const char *key)
{
  dds_guid_t g;
  dds_get_guid(pp, &g);
  uint8_t id[16];
  memcpy(id, g.v, 12);
  id[12] = 0; id[13] = 0; id[14] = 0; id[15] = 1;
  char s[128];
  int n = snprintf(s, sizeof(s), "%s=%02x", key, id[0]);
  for (int i = 1; i < 16; i++) n += snprintf(s + n, sizeof(s) - (size_t)n, ".%x", id[i]);
  snprintf(s + n, sizeof(s) - (size_t)n, ";");
  dds_qset_userdata(q, s, strlen(s));
}

static int cmd_call_trigger(void)
{
  char rq[512], rr[512];
  service_topics(o.service, rq, rr, sizeof(rq));
  dds_entity_t tq = dds_create_topic(pp, &std_srvs_srv_dds__Trigger_Request__desc, rq, NULL, NULL);
  dds_entity_t tr = dds_create_topic(pp, &std_srvs_srv_dds__Trigger_Response__desc, rr, NULL, NULL);
  if (tq < 0 || tr < 0) die("create service topics", tq < 0 ? tq : tr);
  dds_qos_t *q = endpoint_qos(1, 0, 10);
  set_csid_userdata(q, "clientid");
  dds_listener_t *l = match_listener();
  dds_entity_t wr = dds_create_writer(pp, tq, q, l);
  dds_entity_t rd = dds_create_reader(pp, tr, q, l);
  dds_delete_qos(q);
  dds_delete_listener(l);
  if (wr < 0 || rd < 0) die("create service client endpoints", wr < 0 ? wr : rd);
  track(rd, 1); track(wr, 0);
  announce_node();
  int64_t deadline = now_ns() + (int64_t)(o.timeout * 1e9);
  /* Like rclcpp's wait_for_service: both halves matched before the request goes out. */
  for (;;) {
    dds_publication_matched_status_t ps;
    dds_subscription_matched_status_t ss;
    dds_get_publication_matched_status(wr, &ps);
    dds_get_subscription_matched_status(rd, &ss);
    if (ps.current_count > 0 && ss.current_count > 0) break;
    if (peer_stop || now_ns() >= deadline) {
      fprintf(stderr, "cyclone-peer: timeout: service %s not available (request readers %u, reply writers %u)\n",
              o.service, ps.current_count, ss.current_count);
      return 1;
    }
    sleep_ns(DDS_MSECS(10));
  }
  dds_instance_handle_t ih;
  dds_get_instance_handle(wr, &ih);
  std_srvs_srv_dds__Trigger_Request_ req = { .client_guid_ = ih, .sequence_number_ = 1, .structure_needs_at_least_one_member = 0 };
  int64_t t0 = now_ns();
  dds_return_t rc = dds_write(wr, &req);
  if (rc < 0) die("write request", rc);
  struct jbuf b;
  jb_begin(&b, "request");
  jb_printf(&b, ",\"client_guid\":\"%016" PRIx64 "\",\"seq\":1", (uint64_t)ih);
  jb_end(&b);
  dds_entity_t ws = dds_create_waitset(pp);
  dds_entity_t cond = dds_create_readcondition(rd, DDS_ANY_STATE);
  dds_waitset_attach(ws, cond, rd);
  while (!peer_stop) {
    int64_t left = deadline - now_ns();
    if (left <= 0) break;
    dds_waitset_wait(ws, NULL, 0, left < DDS_MSECS(200) ? left : DDS_MSECS(200));
    void *samples[1] = { NULL };
    dds_sample_info_t infos[1];
    dds_return_t n;
    while ((n = dds_take(rd, samples, infos, 1, 1)) > 0) {
      const std_srvs_srv_dds__Trigger_Response_ *r = samples[0];
      if (infos[0].valid_data) {
        int mine = r->client_guid_ == ih && r->sequence_number_ == 1;
        jb_begin(&b, mine ? "reply" : "reply_ignored");
        jb_printf(&b, ",\"client_guid\":\"%016" PRIx64 "\",\"seq\":%lld,\"success\":%s,\"message\":",
                  r->client_guid_, (long long)r->sequence_number_, r->success_ ? "true" : "false");
        jb_str(&b, r->message_);
        jb_printf(&b, ",\"latency_ns\":%lld", (long long)(now_ns() - t0));
        jb_end(&b);
        if (mine) { dds_return_loan(rd, samples, n); return 0; }
      }
      dds_return_loan(rd, samples, n);
      samples[0] = NULL;
    }
  }
  fprintf(stderr, "cyclone-peer: timeout: no reply from %s within %.1f s\n", o.service, o.timeout);
  return 1;
}

static int cmd_serve_trigger(void)
{
  char rq[512], rr[512];
  service_topics(o.service, rq, rr, sizeof(rq));
  dds_entity_t tq = dds_create_topic(pp, &std_srvs_srv_dds__Trigger_Request__desc, rq, NULL, NULL);
  dds_entity_t tr = dds_create_topic(pp, &std_srvs_srv_dds__Trigger_Response__desc, rr, NULL, NULL);
  if (tq < 0 || tr < 0) die("create service topics", tq < 0 ? tq : tr);
  dds_qos_t *q = endpoint_qos(1, 0, 10);
  set_csid_userdata(q, "serviceid");
  dds_listener_t *l = match_listener();
  dds_entity_t rd = dds_create_reader(pp, tq, q, l);
  dds_entity_t wr = dds_create_writer(pp, tr, q, l);
  dds_delete_qos(q);
  dds_delete_listener(l);
  if (wr < 0 || rd < 0) die("create service endpoints", wr < 0 ? wr : rd);
  track(rd, 1); track(wr, 0);
  announce_node();
  dds_entity_t ws = dds_create_waitset(pp);
  dds_entity_t cond = dds_create_readcondition(rd, DDS_ANY_STATE);
  dds_waitset_attach(ws, cond, rd);
  int64_t deadline = now_ns() + (int64_t)(o.timeout * 1e9);
  long served = 0;
  while (!peer_stop && (o.count == 0 || served < o.count)) {
    int64_t left = deadline - now_ns();
    if (left <= 0) break;
    dds_waitset_wait(ws, NULL, 0, left < DDS_MSECS(200) ? left : DDS_MSECS(200));
    void *samples[1] = { NULL };
    dds_sample_info_t infos[1];
    dds_return_t n;
    while ((n = dds_take(rd, samples, infos, 1, 1)) > 0) {
      if (infos[0].valid_data) {
        const std_srvs_srv_dds__Trigger_Request_ *r = samples[0];
        struct jbuf b;
        jb_begin(&b, "request");
        jb_printf(&b, ",\"client_guid\":\"%016" PRIx64 "\",\"seq\":%lld", r->client_guid_, (long long)r->sequence_number_);
        jb_end(&b);
        /* The reply goes to a volatile reader: give discovery of the client's reply reader a
         * moment, as rmw_cyclonedds does before sending a response. */
        wait_matched_readers(wr, 1, now_ns() + DDS_SECS(2));
        std_srvs_srv_dds__Trigger_Response_ resp = { .client_guid_ = r->client_guid_, .sequence_number_ = r->sequence_number_,
                                                      .success_ = o.success != 0, .message_ = (char *)o.message };
        dds_return_t rc = dds_write(wr, &resp);
        if (rc < 0) die("write reply", rc);
        served++;
      }
      dds_return_loan(rd, samples, n);
      samples[0] = NULL;
    }
  }
  if (o.linger > 0) dds_wait_for_acks(wr, (dds_duration_t)(o.linger * 1e9));
  if (o.count && served < o.count && !peer_stop) {
    fprintf(stderr, "cyclone-peer: timeout: served %ld of %ld requests on %s\n", served, o.count, o.service);
    return 1;
  }
  return 0;
}

/* ---- graph introspection ---- */

static int cmd_nodes(void)
{
  dds_entity_t tp = dds_create_topic(pp, &rmw_dds_common_msg_dds__ParticipantEntitiesInfo__desc, "ros_discovery_info", NULL, NULL);
  if (tp < 0) die("create ros_discovery_info topic", tp);
  /* Deeper than the writers' keep-last-1: the topic is keyless, so one history holds every
   * participant's latest announcement. */
  dds_qos_t *q = endpoint_qos(1, 1, 100);
  dds_entity_t rd = dds_create_reader(pp, tp, q, NULL);
  dds_delete_qos(q);
  if (rd < 0) die("create ros_discovery_info reader", rd);
  dds_entity_t ws = dds_create_waitset(pp);
  dds_entity_t cond = dds_create_readcondition(rd, DDS_ANY_STATE);
  dds_waitset_attach(ws, cond, rd);
  int64_t deadline = now_ns() + (int64_t)(o.timeout * 1e9);
  while (!peer_stop) {
    int64_t left = deadline - now_ns();
    if (left <= 0) break;
    dds_waitset_wait(ws, NULL, 0, left < DDS_MSECS(200) ? left : DDS_MSECS(200));
    void *samples[1] = { NULL };
    dds_sample_info_t infos[1];
    dds_return_t n;
    while ((n = dds_take(rd, samples, infos, 1, 1)) > 0) {
      int found = 0;
      if (infos[0].valid_data) {
        const rmw_dds_common_msg_dds__ParticipantEntitiesInfo_ *m = samples[0];
        struct jbuf b;
        jb_begin(&b, "participant");
        jb_printf(&b, ",\"gid\":");
        jb_hex(&b, m->gid_.data_, 16);
        jb_printf(&b, ",\"nodes\":[");
        for (uint32_t i = 0; i < m->node_entities_info_seq_._length; i++) {
          const rmw_dds_common_msg_dds__NodeEntitiesInfo_ *ne = &m->node_entities_info_seq_._buffer[i];
          if (o.expect && !strcmp(o.expect, ne->node_name_)) found = 1;
          jb_printf(&b, "%s{\"namespace\":", i ? "," : "");
          jb_str(&b, ne->node_namespace_);
          jb_printf(&b, ",\"name\":");
          jb_str(&b, ne->node_name_);
          jb_printf(&b, ",\"reader_gids\":[");
          for (uint32_t k = 0; k < ne->reader_gid_seq_._length; k++) { if (k) jb_printf(&b, ","); jb_hex(&b, ne->reader_gid_seq_._buffer[k].data_, 16); }
          jb_printf(&b, "],\"writer_gids\":[");
          for (uint32_t k = 0; k < ne->writer_gid_seq_._length; k++) { if (k) jb_printf(&b, ","); jb_hex(&b, ne->writer_gid_seq_._buffer[k].data_, 16); }
          jb_printf(&b, "]}");
        }
        jb_printf(&b, "]");
        jb_end(&b);
      }
      dds_return_loan(rd, samples, n);
      samples[0] = NULL;
      if (found) return 0;
    }
  }
  if (o.expect && !peer_stop) { fprintf(stderr, "cyclone-peer: timeout: node %s not seen\n", o.expect); return 1; }
  return 0;
}

static int cmd_topics(void)
{
  dds_entity_t rds[2] = {
    dds_create_reader(pp, DDS_BUILTIN_TOPIC_DCPSPUBLICATION, NULL, NULL),
    dds_create_reader(pp, DDS_BUILTIN_TOPIC_DCPSSUBSCRIPTION, NULL, NULL),
  };
  if (rds[0] < 0 || rds[1] < 0) die("create builtin topic readers", rds[0] < 0 ? rds[0] : rds[1]);
  dds_guid_t self;
  dds_get_guid(pp, &self);
  dds_entity_t ws = dds_create_waitset(pp);
  for (int i = 0; i < 2; i++) dds_waitset_attach(ws, dds_create_readcondition(rds[i], DDS_ANY_STATE), rds[i]);
  int64_t deadline = now_ns() + (int64_t)(o.timeout * 1e9);
  while (!peer_stop) {
    int64_t left = deadline - now_ns();
    if (left <= 0) break;
    dds_waitset_wait(ws, NULL, 0, left < DDS_MSECS(200) ? left : DDS_MSECS(200));
    for (int i = 0; i < 2; i++) {
      void *samples[1] = { NULL };
      dds_sample_info_t infos[1];
      dds_return_t n;
      while ((n = dds_take(rds[i], samples, infos, 1, 1)) > 0) {
        const dds_builtintopic_endpoint_t *ep = samples[0];
        int found = 0;
        if (infos[0].valid_data && memcmp(ep->participant_key.v, self.v, 12) != 0) {
          struct jbuf b;
          jb_begin(&b, i == 0 ? "writer" : "reader");
          jb_printf(&b, ",\"topic\":");
          jb_str(&b, ep->topic_name);
          jb_printf(&b, ",\"type\":");
          jb_str(&b, ep->type_name);
          jb_guid(&b, "guid", &ep->key);
          jb_end(&b);
          found = i == 0 && o.expect && !strcmp(o.expect, ep->topic_name);
        }
        dds_return_loan(rds[i], samples, n);
        samples[0] = NULL;
        if (found) return 0;
      }
    }
  }
  if (o.expect && !peer_stop) { fprintf(stderr, "cyclone-peer: timeout: no writer on %s seen\n", o.expect); return 1; }
  return 0;
}

int main(int argc, char **argv)
{
  if (parse_opts(argc, argv, &o, "cyclone_peer")) return 1;
  dds_qos_t *q = dds_create_qos();
  /* rmw_dds_common puts the security enclave in the participant's USER_DATA. */
  dds_qset_userdata(q, "enclave=/;", 10);
  pp = dds_create_participant((dds_domainid_t)domain_id(), q, NULL);
  dds_delete_qos(q);
  if (pp < 0) die("create participant", pp);
  {
    dds_guid_t g;
    dds_get_guid(pp, &g);
    struct jbuf b;
    jb_begin(&b, "ready");
    jb_printf(&b, ",\"impl\":\"cyclonedds\",\"domain\":%d", domain_id());
    jb_guid(&b, "participant", &g);
    jb_end(&b);
  }
  int rc = 1;
  switch (o.cmd) {
  case CMD_SUB: rc = cmd_sub(); break;
  case CMD_PUB: rc = cmd_pub(); break;
  case CMD_CALL_TRIGGER: rc = cmd_call_trigger(); break;
  case CMD_SERVE_TRIGGER: rc = cmd_serve_trigger(); break;
  case CMD_NODES: rc = cmd_nodes(); break;
  case CMD_TOPICS: rc = cmd_topics(); break;
  default: break;
  }
  dds_delete(pp);
  return rc;
}
