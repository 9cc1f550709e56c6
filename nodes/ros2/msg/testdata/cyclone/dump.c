/* Serializes the samples of cyclone_test.go with Cyclone DDS and prints "<name> <hex>" per
 * sample: each sample is written on a topic and read back as serialized data (dds_takecdr),
 * which is the payload Cyclone would put in an RTPS DATA submessage. Values must match the
 * Go side (cyclone_test.go). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dds/dds.h"
#include "dds/ddsi/ddsi_serdata.h"
#include "types.h"

static dds_entity_t pp;

static void dump(const char *name, const dds_topic_descriptor_t *desc, const void *sample)
{
  char tname[128];
  snprintf(tname, sizeof tname, "t_%s", name);
  dds_entity_t tp = dds_create_topic(pp, desc, tname, NULL, NULL);
  dds_qos_t *q = dds_create_qos();
  dds_qset_reliability(q, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
  dds_qset_history(q, DDS_HISTORY_KEEP_ALL, 0);
  dds_entity_t rd = dds_create_reader(pp, tp, q, NULL);
  dds_entity_t wr = dds_create_writer(pp, tp, q, NULL);
  dds_delete_qos(q);
  if (tp < 0 || rd < 0 || wr < 0) { fprintf(stderr, "%s: create failed\n", name); exit(1); }
  if (dds_write(wr, sample) < 0) { fprintf(stderr, "%s: write failed\n", name); exit(1); }
  struct ddsi_serdata *sd = NULL;
  dds_sample_info_t si;
  if (dds_takecdr(rd, &sd, 1, &si, DDS_ANY_STATE) != 1) { fprintf(stderr, "%s: nothing read\n", name); exit(1); }
  uint32_t n = ddsi_serdata_size(sd);
  unsigned char *buf = malloc(n);
  ddsi_serdata_to_ser(sd, 0, n, buf);
  printf("%s ", name);
  for (uint32_t i = 0; i < n; i++) printf("%02x", buf[i]);
  printf("\n");
  free(buf);
  ddsi_serdata_unref(sd);
  dds_delete(wr); dds_delete(rd); dds_delete(tp);
}

#define SEQ(s, arr, n) do { (s)._maximum = (s)._length = (n); (s)._buffer = (arr); (s)._release = false; } while (0)

int main(void)
{
  pp = dds_create_participant(DDS_DOMAIN_DEFAULT, NULL, NULL);
  if (pp < 0) { fprintf(stderr, "participant: %s\n", dds_strretcode(pp)); return 1; }

  std_msgs_msg_dds__Header_ h = { { 1, 2 }, "cam" };
  dump("Header", &std_msgs_msg_dds__Header__desc, &h);

  uint8_t px[6] = { 1, 2, 3, 4, 5, 6 };
  sensor_msgs_msg_dds__Image_ img = { { { 1, 2 }, "cam" }, 1, 2, "rgb8", 0, 6 };
  SEQ(img.data_, px, 6);
  dump("Image", &sensor_msgs_msg_dds__Image__desc, &img);

  std_msgs_msg_dds__MultiArrayDimension_ dim = { "x", 2, 2 };
  float f2[2] = { 1, 2 };
  std_msgs_msg_dds__Float32MultiArray_ fa;
  memset(&fa, 0, sizeof fa);
  SEQ(fa.layout_.dim_, &dim, 1);
  SEQ(fa.data_, f2, 2);
  dump("Float32MultiArray", &std_msgs_msg_dds__Float32MultiArray__desc, &fa);

  diagnostic_msgs_msg_dds__KeyValue_ kv = { "k", "v" };
  diagnostic_msgs_msg_dds__DiagnosticStatus_ st = { 2, "n", "", "" };
  SEQ(st.values_, &kv, 1);
  diagnostic_msgs_msg_dds__DiagnosticArray_ da = { { { 0, 0 }, "" } };
  SEQ(da.status_, &st, 1);
  dump("DiagnosticArray", &diagnostic_msgs_msg_dds__DiagnosticArray__desc, &da);

  std_srvs_srv_dds__Trigger_Request_ treq = { 0 };
  dump("Trigger_Request", &std_srvs_srv_dds__Trigger_Request__desc, &treq);
  std_srvs_srv_dds__Trigger_Response_ tres = { true, "ok" };
  dump("Trigger_Response", &std_srvs_srv_dds__Trigger_Response__desc, &tres);

  rssmd_msgs_msg_dds__Reward_ rw = { { { 3, 4 }, "" }, 9, 1.0f, -2.0f, true };
  dump("Reward", &rssmd_msgs_msg_dds__Reward__desc, &rw);

  rmw_dds_common_msg_dds__Gid_ wg;
  rmw_dds_common_msg_dds__NodeEntitiesInfo_ ni;
  memset(&ni, 0, sizeof ni);
  strcpy(ni.node_namespace_, "/");
  strcpy(ni.node_name_, "n");
  for (int i = 0; i < 16; i++) wg.data_[i] = (uint8_t)(0x20 + i);
  SEQ(ni.writer_gid_seq_, &wg, 1);
  rmw_dds_common_msg_dds__ParticipantEntitiesInfo_ pe;
  for (int i = 0; i < 16; i++) pe.gid_.data_[i] = (uint8_t)(1 + i);
  SEQ(pe.node_entities_info_seq_, &ni, 1);
  dump("ParticipantEntitiesInfoIron", &rmw_dds_common_msg_dds__ParticipantEntitiesInfo__desc, &pe);

  humble_Gid_ hwg;
  memset(&hwg, 0, sizeof hwg);
  for (int i = 0; i < 16; i++) hwg.data_[i] = (uint8_t)(0x20 + i);
  humble_NodeEntitiesInfo_ hni;
  memset(&hni, 0, sizeof hni);
  strcpy(hni.node_namespace_, "/");
  strcpy(hni.node_name_, "n");
  SEQ(hni.writer_gid_seq_, &hwg, 1);
  humble_ParticipantEntitiesInfo_ ph;
  for (int i = 0; i < 24; i++) ph.gid_.data_[i] = (uint8_t)(1 + i);
  SEQ(ph.node_entities_info_seq_, &hni, 1);
  dump("ParticipantEntitiesInfoHumble", &humble_ParticipantEntitiesInfo__desc, &ph);

  float deter[3] = { 1, 2, 3 }, sm[1] = { 4 }, ss[1] = { 5 }, pm[2] = { 6, 7 }, ps[2] = { 8, 9 };
  rssmd_msgs_msg_dds__LatentState_ ls;
  memset(&ls, 0, sizeof ls);
  ls.header_.stamp_.sec_ = 1700000000; ls.header_.stamp_.nanosec_ = 5; ls.header_.frame_id_ = "camera";
  ls.tick_ = 10; ls.seq_ = 11;
  SEQ(ls.deter_, deter, 3); SEQ(ls.stoch_mean_, sm, 1); SEQ(ls.stoch_std_, ss, 1);
  SEQ(ls.prior_mean_, pm, 2); SEQ(ls.prior_std_, ps, 2);
  ls.kl_ = 0.5f; ls.elbo_ = -1.0f / 0.0f; ls.is_first_ = true; ls.stale_action_ = true;
  dump("LatentState", &rssmd_msgs_msg_dds__LatentState__desc, &ls);

  float id[4] = { 1, 2, 3, 4 }, ism[2] = { 5, 6 };
  uint8_t ipx[3] = { 1, 2, 3 };
  sensor_msgs_msg_dds__Image_ ims[2];
  memset(ims, 0, sizeof ims);
  ims[0].header_.frame_id_ = ""; ims[0].height_ = 1; ims[0].width_ = 1; ims[0].encoding_ = "rgb8"; ims[0].step_ = 3;
  SEQ(ims[0].data_, ipx, 3);
  ims[1].header_.frame_id_ = ""; ims[1].encoding_ = "mono8";
  rssmd_msgs_srv_dds__Imagine_Response_ ir;
  memset(&ir, 0, sizeof ir);
  ir.header_.frame_id_ = "camera"; ir.deter_dim_ = 2; ir.stoch_dim_ = 1;
  SEQ(ir.deter_, id, 4); SEQ(ir.stoch_mean_, ism, 2);
  SEQ(ir.images_, ims, 2);
  ir.success_ = true; ir.message_ = "done";
  dump("Imagine_Response", &rssmd_msgs_srv_dds__Imagine_Response__desc, &ir);

  dds_delete(pp);
  return 0;
}
