// fastdds-peer: a ROS 2-shaped DDS peer on Fast DDS's DDS API (the DDS behind rmw_fastrtps),
// for rssmd's interop tests. Types come from fastddsgen (idl/ros2.idl, idl/srv_fastdds.idl);
// the command line and output are shared with cyclone-peer (peer_common.h). See ../README.md.
#include <cinttypes>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <fastdds/dds/domain/DomainParticipant.hpp>
#include <fastdds/dds/domain/DomainParticipantFactory.hpp>
#include <fastdds/dds/domain/DomainParticipantListener.hpp>
#include <fastdds/dds/publisher/DataWriter.hpp>
#include <fastdds/dds/publisher/DataWriterListener.hpp>
#include <fastdds/dds/publisher/Publisher.hpp>
#include <fastdds/dds/subscriber/DataReader.hpp>
#include <fastdds/dds/subscriber/DataReaderListener.hpp>
#include <fastdds/dds/subscriber/SampleInfo.hpp>
#include <fastdds/dds/subscriber/Subscriber.hpp>
#include <fastdds/dds/topic/TypeSupport.hpp>
#include <fastdds/rtps/common/WriteParams.h>
#include <fastdds/rtps/transport/UDPv4TransportDescriptor.h>

#include "peer_common.h"
#include "ros2PubSubTypes.h"
#include "srv_fastddsPubSubTypes.h"

using namespace eprosima::fastdds::dds;
using eprosima::fastrtps::rtps::GUID_t;
using eprosima::fastrtps::rtps::SampleIdentity;
using eprosima::fastrtps::rtps::WriteParams;
using ReturnCode = eprosima::fastrtps::types::ReturnCode_t;

namespace sm = std_msgs::msg::dds_;
namespace im = sensor_msgs::msg::dds_;
namespace dm = diagnostic_msgs::msg::dds_;
namespace rm = rmw_dds_common::msg::dds_;
namespace xm = rssmd_msgs::msg::dds_;
namespace sv = std_srvs::srv::dds_;

static peer_opts o;
static DomainParticipant *pp;
static Publisher *pub;
static Subscriber *sub;

[[noreturn]] static void die(const std::string &what)
{
  fprintf(stderr, "fastdds-peer: %s\n", what.c_str());
  exit(1);
}

static void jb_guid(jbuf *b, const char *key, const GUID_t &g)
{
  uint8_t v[16];
  memcpy(v, g.guidPrefix.value, 12);
  memcpy(v + 12, g.entityId.value, 4);
  jb_printf(b, ",\"%s\":", key);
  jb_hex(b, v, 16);
}

static GUID_t handle_guid(const InstanceHandle_t &h)
{
  GUID_t g;
  memcpy(g.guidPrefix.value, h.value, 12);
  memcpy(g.entityId.value, h.value + 12, 4);
  return g;
}

static int64_t time_ns(const eprosima::fastrtps::rtps::Time_t &t)
{
  return t.to_ns();
}

// ---- matching events ----

class MatchListener : public DataWriterListener, public DataReaderListener
{
public:
  // Readers matched to our writers: DataWriter::get_matched_subscriptions is not implemented
  // in Fast DDS 2.9, and serve-trigger needs to know whether a client's reply reader is there.
  std::mutex mu;
  std::set<GUID_t> readers;

  bool has_reader(const GUID_t &g)
  {
    std::lock_guard<std::mutex> l(mu);
    return readers.count(g) != 0;
  }

  void on_publication_matched(DataWriter *, const PublicationMatchedStatus &st) override
  {
    {
      std::lock_guard<std::mutex> l(mu);
      if (st.current_count_change > 0) readers.insert(handle_guid(st.last_subscription_handle));
      else if (st.current_count_change < 0) readers.erase(handle_guid(st.last_subscription_handle));
    }
    jbuf b;
    jb_begin(&b, st.current_count_change >= 0 ? "matched" : "unmatched");
    jb_printf(&b, ",\"remote\":\"reader\",\"count\":%d", st.current_count);
    jb_guid(&b, "guid", handle_guid(st.last_subscription_handle));
    jb_end(&b);
  }
  void on_subscription_matched(DataReader *, const SubscriptionMatchedStatus &st) override
  {
    jbuf b;
    jb_begin(&b, st.current_count_change >= 0 ? "matched" : "unmatched");
    jb_printf(&b, ",\"remote\":\"writer\",\"count\":%d", st.current_count);
    jb_guid(&b, "guid", handle_guid(st.last_publication_handle));
    jb_end(&b);
  }
};
static MatchListener match_listener;

static Topic *make_topic(const char *name, TypeSupport ts)
{
  if (ts.register_type(pp) != ReturnCode::RETCODE_OK) die(std::string("register type ") + ts.get_type_name());
  Topic *t = pp->create_topic(name, ts.get_type_name(), TOPIC_QOS_DEFAULT);
  if (!t) die(std::string("create topic ") + name);
  return t;
}

static DataWriter *make_writer(Topic *t, bool reliable, bool transient_local, int depth, bool listen)
{
  DataWriterQos q = DATAWRITER_QOS_DEFAULT;
  q.reliability().kind = reliable ? RELIABLE_RELIABILITY_QOS : BEST_EFFORT_RELIABILITY_QOS;
  q.durability().kind = transient_local ? TRANSIENT_LOCAL_DURABILITY_QOS : VOLATILE_DURABILITY_QOS;
  q.history().kind = KEEP_LAST_HISTORY_QOS;
  q.history().depth = depth;
  // Samples larger than fastddsgen's size estimate (unbounded sequences) need reallocating
  // history; asynchronous publishing is what rmw_fastrtps uses and lets large samples be
  // fragmented and paced by the flow controller instead of in the caller.
  q.endpoint().history_memory_policy = eprosima::fastrtps::rtps::PREALLOCATED_WITH_REALLOC_MEMORY_MODE;
  q.publish_mode().kind = ASYNCHRONOUS_PUBLISH_MODE;
  DataWriter *w = pub->create_datawriter(t, q, listen ? &match_listener : nullptr, StatusMask::publication_matched());
  if (!w) die(std::string("create writer on ") + t->get_name());
  return w;
}

static DataReader *make_reader(Topic *t, bool reliable, bool transient_local, int depth, bool listen)
{
  DataReaderQos q = DATAREADER_QOS_DEFAULT;
  q.reliability().kind = reliable ? RELIABLE_RELIABILITY_QOS : BEST_EFFORT_RELIABILITY_QOS;
  q.durability().kind = transient_local ? TRANSIENT_LOCAL_DURABILITY_QOS : VOLATILE_DURABILITY_QOS;
  q.history().kind = KEEP_LAST_HISTORY_QOS;
  q.history().depth = depth;
  q.endpoint().history_memory_policy = eprosima::fastrtps::rtps::PREALLOCATED_WITH_REALLOC_MEMORY_MODE;
  DataReader *r = sub->create_datareader(t, q, listen ? &match_listener : nullptr, StatusMask::subscription_matched());
  if (!r) die(std::string("create reader on ") + t->get_name());
  return r;
}

// ---- the ROS graph: ros_discovery_info ----

static std::vector<GUID_t> node_readers, node_writers;

// Announces this process as one ROS node, as rmw_dds_common's graph cache does: one
// ParticipantEntitiesInfo (reliable, transient local, keep last 1) on ros_discovery_info.
static void announce_node()
{
  if (!o.node || !*o.node) return;
  Topic *t = make_topic("ros_discovery_info", TypeSupport(new rm::ParticipantEntitiesInfo_PubSubType()));
  DataWriter *w = make_writer(t, true, true, 1, false);
  auto gid = [](const GUID_t &g) {
    rm::Gid_ x;
    memcpy(x.data_().data(), g.guidPrefix.value, 12);
    memcpy(x.data_().data() + 12, g.entityId.value, 4);
    return x;
  };
  rm::ParticipantEntitiesInfo_ m;
  m.gid(gid(pp->guid()));
  rm::NodeEntitiesInfo_ n;
  n.node_namespace_(o.ns);
  n.node_name_(o.node);
  for (auto &g : node_readers) n.reader_gid_seq_().push_back(gid(g));
  for (auto &g : node_writers) n.writer_gid_seq_().push_back(gid(g));
  m.node_entities_info_seq_().push_back(n);
  if (!w->write(&m)) die("write ros_discovery_info");
}

// ---- sub ----

static void jb_stamp(jbuf *b, const sm::Header_ &h)
{
  jb_printf(b, ",\"stamp_ns\":%lld,\"frame_id\":", (long long)h.stamp_().sec_() * 1000000000 + h.stamp_().nanosec_());
  jb_str(b, h.frame_id_().c_str());
}

static void jb_bytes(jbuf *b, const std::vector<uint8_t> &d)
{
  jb_printf(b, ",\"size\":%zu,\"fnv1a\":\"%016" PRIx64 "\",\"head\":", d.size(), fnv1a64(d.data(), d.size()));
  jb_hex(b, d.data(), d.size() < 16 ? d.size() : 16);
}

static void jb_vec(jbuf *b, const char *key, const std::vector<float> &v)
{
  jb_floats(b, key, v.data(), v.size());
}

static const char *tf(bool v) { return v ? "true" : "false"; }

static void print(jbuf *b, const sm::Float32MultiArray_ &m)
{
  jb_printf(b, ",\"dims\":[");
  for (size_t i = 0; i < m.layout_().dim_().size(); i++) {
    const auto &d = m.layout_().dim_()[i];
    jb_printf(b, "%s{\"label\":", i ? "," : "");
    jb_str(b, d.label_().c_str());
    jb_printf(b, ",\"size\":%u,\"stride\":%u}", d.size_(), d.stride_());
  }
  jb_printf(b, "],\"data_offset\":%u,\"n\":%zu", m.layout_().data_offset_(), m.data_().size());
  if (!o.quiet_values) jb_vec(b, "values", m.data_());
}

static void print(jbuf *b, const im::Image_ &m)
{
  jb_stamp(b, m.header_());
  jb_printf(b, ",\"width\":%u,\"height\":%u,\"encoding\":", m.width_(), m.height_());
  jb_str(b, m.encoding_().c_str());
  jb_printf(b, ",\"is_bigendian\":%u,\"step\":%u", m.is_bigendian_(), m.step_());
  jb_bytes(b, m.data_());
}

static void print(jbuf *b, const im::CompressedImage_ &m)
{
  jb_stamp(b, m.header_());
  jb_printf(b, ",\"format\":");
  jb_str(b, m.format_().c_str());
  jb_bytes(b, m.data_());
}

static void print(jbuf *b, const xm::LatentState_ &m)
{
  jb_stamp(b, m.header_());
  jb_printf(b, ",\"tick\":%" PRIu64 ",\"seq\":%" PRIu64, m.tick_(), m.seq_());
  if (!o.quiet_values) {
    jb_vec(b, "deter", m.deter_());
    jb_vec(b, "stoch_mean", m.stoch_mean_());
    jb_vec(b, "stoch_std", m.stoch_std_());
    jb_vec(b, "prior_mean", m.prior_mean_());
    jb_vec(b, "prior_std", m.prior_std_());
  }
  jb_printf(b, ",\"kl\":"); jb_float(b, m.kl_());
  jb_printf(b, ",\"elbo\":"); jb_float(b, m.elbo_());
  jb_printf(b, ",\"is_first\":%s,\"stale_frame\":%s,\"stale_action\":%s,\"anomaly\":%s",
            tf(m.is_first_()), tf(m.stale_frame_()), tf(m.stale_action_()), tf(m.anomaly_()));
}

static void print(jbuf *b, const xm::Quality_ &m)
{
  jb_stamp(b, m.header_());
  jb_printf(b, ",\"tick\":%" PRIu64 ",\"decoded\":%s", m.tick_(), tf(m.decoded_()));
  jb_printf(b, ",\"mse\":"); jb_float(b, m.mse_());
  jb_printf(b, ",\"psnr\":"); jb_float(b, m.psnr_());
  jb_printf(b, ",\"kl\":"); jb_float(b, m.kl_());
  jb_printf(b, ",\"elbo\":"); jb_float(b, m.elbo_());
  jb_printf(b, ",\"zscore\":"); jb_float(b, m.zscore_());
  jb_printf(b, ",\"zscore_kl\":"); jb_float(b, m.zscore_kl_());
  jb_printf(b, ",\"anomaly\":%s", tf(m.anomaly_()));
}

static void print(jbuf *b, const dm::DiagnosticArray_ &m)
{
  jb_stamp(b, m.header_());
  jb_printf(b, ",\"status\":[");
  for (size_t i = 0; i < m.status_().size(); i++) {
    const auto &st = m.status_()[i];
    jb_printf(b, "%s{\"level\":%u,\"name\":", i ? "," : "", st.level_());
    jb_str(b, st.name_().c_str());
    jb_printf(b, ",\"message\":"); jb_str(b, st.message_().c_str());
    jb_printf(b, ",\"hardware_id\":"); jb_str(b, st.hardware_id_().c_str());
    jb_printf(b, ",\"values\":{");
    for (size_t k = 0; k < st.values_().size(); k++) {
      if (k) jb_printf(b, ",");
      jb_str(b, st.values_()[k].key_().c_str());
      jb_printf(b, ":");
      jb_str(b, st.values_()[k].value_().c_str());
    }
    jb_printf(b, "}}");
  }
  jb_printf(b, "]");
}

template <typename T, typename PST> static int run_sub()
{
  Topic *t = make_topic(o.topic, TypeSupport(new PST()));
  DataReader *r = make_reader(t, o.reliable, o.transient_local, o.depth, true);
  node_readers.push_back(r->guid());
  announce_node();
  int64_t deadline = now_ns() + (int64_t)(o.timeout * 1e9);
  long got = 0;
  T m;
  SampleInfo info;
  while (!peer_stop && (o.count == 0 || got < o.count)) {
    int64_t left = deadline - now_ns();
    if (left <= 0) break;
    if (left > 200000000) left = 200000000;
    r->wait_for_unread_message(eprosima::fastrtps::Duration_t(0, (uint32_t)left));
    while ((o.count == 0 || got < o.count) && r->take_next_sample(&m, &info) == ReturnCode::RETCODE_OK) {
      if (!info.valid_data) continue;
      jbuf b;
      jb_begin(&b, "sample");
      jb_printf(&b, ",\"src_ns\":%lld", (long long)time_ns(info.source_timestamp));
      print(&b, m);
      jb_end(&b);
      got++;
    }
  }
  if (o.count && got < o.count && !peer_stop) {
    fprintf(stderr, "fastdds-peer: timeout after %.1f s: %ld of %ld samples on %s\n", o.timeout, got, o.count, o.topic);
    return 1;
  }
  return 0;
}

static int cmd_sub()
{
  std::string ty = o.type;
  if (ty == "float32multiarray") return run_sub<sm::Float32MultiArray_, sm::Float32MultiArray_PubSubType>();
  if (ty == "image") return run_sub<im::Image_, im::Image_PubSubType>();
  if (ty == "compressedimage") return run_sub<im::CompressedImage_, im::CompressedImage_PubSubType>();
  if (ty == "latent") return run_sub<xm::LatentState_, xm::LatentState_PubSubType>();
  if (ty == "quality") return run_sub<xm::Quality_, xm::Quality_PubSubType>();
  if (ty == "diagnostics") return run_sub<dm::DiagnosticArray_, dm::DiagnosticArray_PubSubType>();
  fprintf(stderr, "fastdds-peer: unknown --type %s\n", o.type);
  return 1;
}

// ---- pub ----

static int wait_matched_readers(DataWriter *w, int n, int64_t deadline)
{
  while (!peer_stop && now_ns() < deadline) {
    PublicationMatchedStatus st;
    if (w->get_publication_matched_status(st) == ReturnCode::RETCODE_OK && st.current_count >= n) return 0;
    sleep_ns(10000000);
  }
  return -1;
}

static eprosima::fastrtps::Time_t to_time(int64_t t)
{
  return eprosima::fastrtps::Time_t((int32_t)(t / 1000000000), (uint32_t)(t % 1000000000));
}

static int cmd_pub()
{
  bool image = !strcmp(o.type, "image");
  Topic *t = image ? make_topic(o.topic, TypeSupport(new im::Image_PubSubType()))
                   : make_topic(o.topic, TypeSupport(new sm::Float32MultiArray_PubSubType()));
  DataWriter *w = make_writer(t, o.reliable, o.transient_local, o.depth, true);
  node_writers.push_back(w->guid());
  announce_node();
  int64_t deadline = now_ns() + (int64_t)(o.timeout * 1e9);
  if (o.wait_readers && wait_matched_readers(w, o.wait_readers, deadline)) {
    fprintf(stderr, "fastdds-peer: timeout: no %d matched reader(s) on %s within %.1f s\n", o.wait_readers, o.topic, o.timeout);
    return 1;
  }
  wait_go();
  if (o.go_on_stdin) deadline = now_ns() + (int64_t)(o.timeout * 1e9);
  im::Image_ img;
  sm::Float32MultiArray_ arr;
  if (image) {
    unsigned step = o.width * encoding_bpp(o.encoding);
    img.height_(o.height); img.width_(o.width); img.step_(step);
    img.encoding_(o.encoding); img.header_().frame_id_(o.frame_id);
    img.data_().resize((size_t)step * o.height);
  } else {
    sm::MultiArrayDimension_ d;
    d.label_("x"); d.size_((uint32_t)o.nvalues); d.stride_((uint32_t)o.nvalues);
    arr.layout_().dim_().push_back(d);
    arr.data_().assign(o.values, o.values + o.nvalues);
  }
  int64_t period = (int64_t)(1e9 / o.rate), next = now_ns();
  for (long k = 0; !peer_stop && (o.count == 0 || k < o.count); k++) {
    if (now_ns() >= deadline) break;
    sleep_ns(next - now_ns());
    next += period;
    jbuf b;
    int64_t ts = now_ns();
    ReturnCode rc;
    if (image) {
      fill_pattern(img.data_().data(), img.step_(), img.height_(), k);
      img.header_().stamp_().sec_((int32_t)(ts / 1000000000));
      img.header_().stamp_().nanosec_((uint32_t)(ts % 1000000000));
      rc = w->write_w_timestamp(&img, HANDLE_NIL, to_time(ts));
      jb_begin(&b, "sent");
      jb_printf(&b, ",\"k\":%ld,\"src_ns\":%lld,\"stamp_ns\":%lld,\"fnv1a\":\"%016" PRIx64 "\"", k, (long long)ts, (long long)ts,
                fnv1a64(img.data_().data(), img.data_().size()));
    } else {
      rc = w->write_w_timestamp(&arr, HANDLE_NIL, to_time(ts));
      jb_begin(&b, "sent");
      jb_printf(&b, ",\"k\":%ld,\"src_ns\":%lld", k, (long long)ts);
    }
    if (rc != ReturnCode::RETCODE_OK) { free(b.p); die("write failed"); }
    jb_end(&b);
  }
  if (o.reliable && o.linger > 0) w->wait_for_acknowledgments(eprosima::fastrtps::Duration_t(o.linger));
  return 0;
}

// ---- services (rmw_fastrtps conventions) ----

static void jb_identity(jbuf *b, const char *key, const SampleIdentity &id)
{
  jb_guid(b, key, id.writer_guid());
  jb_printf(b, ",\"seq\":%lld", (long long)id.sequence_number().to64long());
}

static int cmd_call_trigger()
{
  char rq[512], rr[512];
  service_topics(o.service, rq, rr, sizeof(rq));
  Topic *tq = make_topic(rq, TypeSupport(new sv::Trigger_Request_PubSubType()));
  Topic *tr = make_topic(rr, TypeSupport(new sv::Trigger_Response_PubSubType()));
  DataWriter *w = make_writer(tq, true, false, 10, true);
  DataReader *r = make_reader(tr, true, false, 10, true);
  node_readers.push_back(r->guid());
  node_writers.push_back(w->guid());
  announce_node();
  int64_t deadline = now_ns() + (int64_t)(o.timeout * 1e9);
  // Like rclcpp's wait_for_service: both halves matched before the request goes out.
  for (;;) {
    PublicationMatchedStatus ps;
    SubscriptionMatchedStatus ss;
    w->get_publication_matched_status(ps);
    r->get_subscription_matched_status(ss);
    if (ps.current_count > 0 && ss.current_count > 0) break;
    if (peer_stop || now_ns() >= deadline) {
      fprintf(stderr, "fastdds-peer: timeout: service %s not available (request readers %d, reply writers %d)\n",
              o.service, ps.current_count, ss.current_count);
      return 1;
    }
    sleep_ns(10000000);
  }
  sv::Trigger_Request_ req;
  // rmw_fastrtps names the client's reply reader in the request's related sample identity so
  // the service can wait until that reader is matched before replying.
  WriteParams wp;
  wp.related_sample_identity().writer_guid(r->guid());
  int64_t t0 = now_ns();
  if (!w->write(&req, wp)) die("write request");
  SampleIdentity mine = wp.sample_identity();
  jbuf b;
  jb_begin(&b, "request");
  jb_identity(&b, "writer_guid", mine);
  jb_guid(&b, "reply_reader_guid", r->guid());
  jb_end(&b);
  sv::Trigger_Response_ resp;
  SampleInfo info;
  while (!peer_stop) {
    int64_t left = deadline - now_ns();
    if (left <= 0) break;
    if (left > 200000000) left = 200000000;
    r->wait_for_unread_message(eprosima::fastrtps::Duration_t(0, (uint32_t)left));
    while (r->take_next_sample(&resp, &info) == ReturnCode::RETCODE_OK) {
      if (!info.valid_data) continue;
      const SampleIdentity &rel = info.related_sample_identity;
      bool ok = (rel.writer_guid() == r->guid() || rel.writer_guid() == w->guid()) &&
                rel.sequence_number() == mine.sequence_number();
      jb_begin(&b, ok ? "reply" : "reply_ignored");
      jb_identity(&b, "related_guid", rel);
      jb_printf(&b, ",\"success\":%s,\"message\":", tf(resp.success_()));
      jb_str(&b, resp.message_().c_str());
      jb_printf(&b, ",\"latency_ns\":%lld", (long long)(now_ns() - t0));
      jb_end(&b);
      if (ok) return 0;
    }
  }
  fprintf(stderr, "fastdds-peer: timeout: no reply from %s within %.1f s\n", o.service, o.timeout);
  return 1;
}

static int cmd_serve_trigger()
{
  char rq[512], rr[512];
  service_topics(o.service, rq, rr, sizeof(rq));
  Topic *tq = make_topic(rq, TypeSupport(new sv::Trigger_Request_PubSubType()));
  Topic *tr = make_topic(rr, TypeSupport(new sv::Trigger_Response_PubSubType()));
  DataReader *r = make_reader(tq, true, false, 10, true);
  DataWriter *w = make_writer(tr, true, false, 10, true);
  node_readers.push_back(r->guid());
  node_writers.push_back(w->guid());
  announce_node();
  int64_t deadline = now_ns() + (int64_t)(o.timeout * 1e9);
  long served = 0;
  sv::Trigger_Request_ req;
  SampleInfo info;
  while (!peer_stop && (o.count == 0 || served < o.count)) {
    int64_t left = deadline - now_ns();
    if (left <= 0) break;
    if (left > 200000000) left = 200000000;
    r->wait_for_unread_message(eprosima::fastrtps::Duration_t(0, (uint32_t)left));
    while (r->take_next_sample(&req, &info) == ReturnCode::RETCODE_OK) {
      if (!info.valid_data) continue;
      // rmw_fastrtps: the request is identified by its writer GUID + sequence number; a client
      // that named its reply reader (related sample identity) gets that GUID back instead.
      SampleIdentity id = info.sample_identity;
      const GUID_t &related = info.related_sample_identity.writer_guid();
      if (related != GUID_t::unknown()) id.writer_guid(related);
      jbuf b;
      jb_begin(&b, "request");
      jb_identity(&b, "writer_guid", info.sample_identity);
      jb_guid(&b, "reply_reader_guid", related);
      jb_end(&b);
      // The reply goes to a volatile reader: wait (bounded) until it is matched.
      if (related != GUID_t::unknown()) {
        int64_t until = now_ns() + 2000000000;
        while (!match_listener.has_reader(related) && now_ns() < until) sleep_ns(10000000);
      } else {
        wait_matched_readers(w, 1, now_ns() + 2000000000);
      }
      sv::Trigger_Response_ resp;
      resp.success_(o.success != 0);
      resp.message_(o.message);
      WriteParams wp;
      wp.related_sample_identity(id);
      if (!w->write(&resp, wp)) die("write reply");
      served++;
    }
  }
  if (o.linger > 0) w->wait_for_acknowledgments(eprosima::fastrtps::Duration_t(o.linger));
  if (o.count && served < o.count && !peer_stop) {
    fprintf(stderr, "fastdds-peer: timeout: served %ld of %ld requests on %s\n", served, o.count, o.service);
    return 1;
  }
  return 0;
}

// ---- graph introspection ----

static int cmd_nodes()
{
  Topic *t = make_topic("ros_discovery_info", TypeSupport(new rm::ParticipantEntitiesInfo_PubSubType()));
  // Deeper than the writers' keep-last-1: the topic is keyless, so one history holds every
  // participant's latest announcement.
  DataReader *r = make_reader(t, true, true, 100, false);
  int64_t deadline = now_ns() + (int64_t)(o.timeout * 1e9);
  rm::ParticipantEntitiesInfo_ m;
  SampleInfo info;
  while (!peer_stop) {
    int64_t left = deadline - now_ns();
    if (left <= 0) break;
    if (left > 200000000) left = 200000000;
    r->wait_for_unread_message(eprosima::fastrtps::Duration_t(0, (uint32_t)left));
    while (r->take_next_sample(&m, &info) == ReturnCode::RETCODE_OK) {
      if (!info.valid_data) continue;
      bool found = false;
      jbuf b;
      jb_begin(&b, "participant");
      jb_printf(&b, ",\"gid\":");
      jb_hex(&b, m.gid().data_().data(), 16);
      jb_printf(&b, ",\"nodes\":[");
      for (size_t i = 0; i < m.node_entities_info_seq_().size(); i++) {
        const auto &ne = m.node_entities_info_seq_()[i];
        if (o.expect && ne.node_name_() == o.expect) found = true;
        jb_printf(&b, "%s{\"namespace\":", i ? "," : "");
        jb_str(&b, ne.node_namespace_().c_str());
        jb_printf(&b, ",\"name\":");
        jb_str(&b, ne.node_name_().c_str());
        jb_printf(&b, ",\"reader_gids\":[");
        for (size_t k = 0; k < ne.reader_gid_seq_().size(); k++) { if (k) jb_printf(&b, ","); jb_hex(&b, ne.reader_gid_seq_()[k].data_().data(), 16); }
        jb_printf(&b, "],\"writer_gids\":[");
        for (size_t k = 0; k < ne.writer_gid_seq_().size(); k++) { if (k) jb_printf(&b, ","); jb_hex(&b, ne.writer_gid_seq_()[k].data_().data(), 16); }
        jb_printf(&b, "]}");
      }
      jb_printf(&b, "]");
      jb_end(&b);
      if (found) return 0;
    }
  }
  if (o.expect && !peer_stop) { fprintf(stderr, "fastdds-peer: timeout: node %s not seen\n", o.expect); return 1; }
  return 0;
}

// Discovery callbacks for `topics`: the DCPSPublication/DCPSSubscription data as Fast DDS
// reports it.
class GraphListener : public DomainParticipantListener
{
public:
  std::mutex mu;
  bool found = false;
  void on_publisher_discovery(DomainParticipant *p, eprosima::fastrtps::rtps::WriterDiscoveryInfo &&info) override
  {
    if (info.status != eprosima::fastrtps::rtps::WriterDiscoveryInfo::DISCOVERED_WRITER) return;
    if (info.info.guid().guidPrefix == p->guid().guidPrefix) return;
    report("writer", info.info.topicName().c_str(), info.info.typeName().c_str(), info.info.guid());
  }
  void on_subscriber_discovery(DomainParticipant *p, eprosima::fastrtps::rtps::ReaderDiscoveryInfo &&info) override
  {
    if (info.status != eprosima::fastrtps::rtps::ReaderDiscoveryInfo::DISCOVERED_READER) return;
    if (info.info.guid().guidPrefix == p->guid().guidPrefix) return;
    report("reader", info.info.topicName().c_str(), info.info.typeName().c_str(), info.info.guid());
  }
  void report(const char *ev, const char *topic, const char *type, const GUID_t &g)
  {
    jbuf b;
    jb_begin(&b, ev);
    jb_printf(&b, ",\"topic\":");
    jb_str(&b, topic);
    jb_printf(&b, ",\"type\":");
    jb_str(&b, type);
    jb_guid(&b, "guid", g);
    jb_end(&b);
    std::lock_guard<std::mutex> l(mu);
    if (o.expect && !strcmp(ev, "writer") && !strcmp(topic, o.expect)) found = true;
  }
};
static GraphListener graph_listener;

static int cmd_topics()
{
  int64_t deadline = now_ns() + (int64_t)(o.timeout * 1e9);
  while (!peer_stop && now_ns() < deadline) {
    {
      std::lock_guard<std::mutex> l(graph_listener.mu);
      if (graph_listener.found) return 0;
    }
    sleep_ns(20000000);
  }
  if (o.expect && !peer_stop) { fprintf(stderr, "fastdds-peer: timeout: no writer on %s seen\n", o.expect); return 1; }
  return 0;
}

int main(int argc, char **argv)
{
  if (parse_opts(argc, argv, &o, "fastdds_peer")) return 1;
  DomainParticipantQos pq = PARTICIPANT_QOS_DEFAULT;
  // rmw_dds_common puts the security enclave in the participant's USER_DATA.
  const char ud[] = "enclave=/;";
  pq.user_data().setValue(std::vector<eprosima::fastrtps::rtps::octet>(ud, ud + sizeof(ud) - 1));
  pq.name("fastdds_peer");
  // UDP only: Fast DDS would otherwise talk to its own kind over shared memory, which neither
  // the loss injection nor a Go RTPS peer sees.
  pq.transport().use_builtin_transports = false;
  auto udp = std::make_shared<eprosima::fastdds::rtps::UDPv4TransportDescriptor>();
  udp->sendBufferSize = 4 << 20;
  udp->receiveBufferSize = 4 << 20;
  pq.transport().user_transports.push_back(udp);
  pq.transport().send_socket_buffer_size = 4 << 20;
  pq.transport().listen_socket_buffer_size = 4 << 20;
  bool graph = o.cmd == CMD_TOPICS;
  pp = DomainParticipantFactory::get_instance()->create_participant(
    domain_id(), pq, graph ? &graph_listener : nullptr, StatusMask::none());
  if (!pp) die("create participant");
  pub = pp->create_publisher(PUBLISHER_QOS_DEFAULT);
  sub = pp->create_subscriber(SUBSCRIBER_QOS_DEFAULT);
  if (!pub || !sub) die("create publisher/subscriber");
  {
    jbuf b;
    jb_begin(&b, "ready");
    jb_printf(&b, ",\"impl\":\"fastdds\",\"domain\":%d", domain_id());
    jb_guid(&b, "participant", pp->guid());
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
  pp->delete_contained_entities();
  DomainParticipantFactory::get_instance()->delete_participant(pp);
  return rc;
}
