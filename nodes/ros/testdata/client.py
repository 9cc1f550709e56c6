#!/usr/bin/python3
"""ROS client used by rssmd's integration tests: a plain rospy node, written against the ROS
API only (no rssmd code). Message classes for types this machine has no package for are
generated at run time by genpy from the definition the publisher sends in its connection
header, as rosbag does.

  client.py echo TOPIC N TIMEOUT      print N messages of TOPIC as JSON lines
  client.py imagine SERVICE MD5 SRVFILE HORIZON ACTION_DIM IMAGES
  client.py pub_image TOPIC ENCODING W H STAMP_SECS [COUNT]
  client.py make_bag OUT.bag SEQ.npz TOPIC STAMP_SECS RATE COUNT   (no master needed)
  client.py bag_stamps IN.bag                                       (no master needed)
  client.py latency TOPIC N TIMEOUT    receipt time minus header stamp of N messages
"""
import json
import sys
import time

import genpy
import genpy.dynamic
import rospy

_classes = {}


def decode(msg):
    """Deserialise an AnyMsg with a class built from its connection header."""
    hdr = msg._connection_header
    typ = hdr["type"]
    if typ not in _classes:
        _classes[typ] = genpy.dynamic.generate_dynamic(typ, hdr["message_definition"])[typ]
    out = _classes[typ]()
    out.deserialize(msg._buff)
    return typ, out


def summary(typ, m):
    d = {"type": typ}
    if hasattr(m, "header"):
        d["stamp"] = str(m.header.stamp.to_nsec())  # JSON numbers lose nanoseconds
        d["frame_id"] = m.header.frame_id
        d["seq"] = m.header.seq
    for f in ("deter", "stoch_mean", "stoch_std", "prior_mean", "data"):
        if hasattr(m, f):
            d["len_" + f] = len(getattr(m, f))
    for f in ("tick", "kl", "encoding", "width", "height", "is_first", "stale_frame", "stale_action", "anomaly", "mse",
              "reward", "elbo"):
        if hasattr(m, f):
            v = getattr(m, f)
            if isinstance(v, float) and v != v:
                v = None  # NaN (no ELBO computed) is not JSON
            d[f] = v if not isinstance(v, bytes) else v.decode()
    if hasattr(m, "status"):
        d["status"] = [{"name": s.name, "level": ord(s.level) if isinstance(s.level, bytes) else s.level,
                        "values": {kv.key: kv.value for kv in s.values}} for s in m.status]
    return d


def echo(topic, n, timeout):
    got = []

    def cb(msg):
        if len(got) < n:
            got.append(summary(*decode(msg)))

    rospy.Subscriber(topic, rospy.AnyMsg, cb)
    end = time.time() + timeout
    while len(got) < n and time.time() < end and not rospy.is_shutdown():
        time.sleep(0.01)
    for g in got:
        print(json.dumps(g))
    sys.stdout.flush()
    return 0 if len(got) == n else 1


def split_srv(path):
    text = open(path).read()
    req, res = text.split("\n---\n")
    return req, res


def imagine(service, md5, srvfile, horizon, action_dim, images):
    req_def, res_def = split_srv(srvfile)
    # Dependencies of the response, as ROS ships them.
    deps = ("\n================================================================================\n"
            "MSG: std_msgs/Header\nuint32 seq\ntime stamp\nstring frame_id\n"
            "================================================================================\n"
            "MSG: sensor_msgs/Image\nHeader header\nuint32 height\nuint32 width\nstring encoding\n"
            "uint8 is_bigendian\nuint32 step\nuint8[] data\n")
    Req = genpy.dynamic.generate_dynamic("rssmd_msgs/ImagineRequest", req_def)["rssmd_msgs/ImagineRequest"]
    Res = genpy.dynamic.generate_dynamic("rssmd_msgs/ImagineResponse", res_def + deps)["rssmd_msgs/ImagineResponse"]

    class Imagine(object):
        _type = "rssmd_msgs/Imagine"
        _md5sum = md5
        _request_class = Req
        _response_class = Res

    rospy.wait_for_service(service, timeout=10)
    call = rospy.ServiceProxy(service, Imagine)
    r = call(Req(horizon=horizon, actions=[0.1] * (horizon * action_dim), images=images))
    print(json.dumps({"success": r.success, "message": r.message, "len_deter": len(r.deter),
                      "len_stoch_mean": len(r.stoch_mean), "images": len(r.images),
                      "stamp": str(r.header.stamp.to_nsec()), "frame_id": r.header.frame_id,
                      "image_stamps": [str(i.header.stamp.to_nsec()) for i in r.images]}))
    return 0


def pub_image(topic, encoding, w, h, stamp_secs, count):
    from sensor_msgs.msg import Image
    pub = rospy.Publisher(topic, Image, queue_size=10)
    end = time.time() + 10
    while pub.get_num_connections() == 0 and time.time() < end:
        time.sleep(0.05)
    bpp = {"rgb8": 3, "bgr8": 3, "mono8": 1, "yuv422": 2, "yuv422_yuy2": 2}.get(encoding, 3)
    for i in range(count):
        m = Image()
        m.header.stamp = rospy.Time.from_sec(stamp_secs + i * 0.05)
        m.header.frame_id = "cam"
        m.width, m.height, m.encoding, m.step = w, h, encoding, w * bpp
        m.data = bytes((x * 7 + i) % 256 for x in range(w * h * bpp))
        pub.publish(m)
        time.sleep(0.05)
    time.sleep(0.2)
    return 0


def make_bag(out, npz, topic, stamp_secs, rate, count):
    """A camera bag from a replay sequence: rgb8 frames stamped (header and record time)
    stamp_secs + i/rate, cycling through the sequence's frames."""
    import numpy as np
    import rosbag
    from sensor_msgs.msg import Image
    frames = np.load(npz)["image"]
    with rosbag.Bag(out, "w") as bag:
        for i in range(count):
            img = frames[i % len(frames)]
            m = Image()
            m.header.seq = i
            # Integer nanoseconds: float seconds would round 1.05 s to 1.049999999.
            m.header.stamp = rospy.Time(0, int(round(stamp_secs * 1e9)) + int(round(i * 1e9 / rate)))
            m.header.frame_id = "bag_cam"
            m.height, m.width = img.shape[0], img.shape[1]
            m.encoding, m.step = "rgb8", img.shape[1] * 3
            m.data = img.astype(np.uint8).tobytes()
            bag.write(topic, m, m.header.stamp)
    return 0


def bag_stamps(path):
    import rosbag
    with rosbag.Bag(path) as bag:
        for topic, m, t in bag.read_messages():
            d = summary(m._type, m)
            d["topic"] = topic
            d["bag_time"] = str(t.to_nsec())
            print(json.dumps(d))
    return 0


def latency(topic, n, timeout):
    """Receipt time (wall clock, at the callback) minus header stamp, in microseconds: the
    publisher's stamps must be wall-clock times for this to mean anything."""
    lat = []

    def cb(msg):
        now = time.time_ns()
        if len(lat) < n:
            # The header is the message's first field: seq (4 bytes), stamp secs, nsecs.
            import struct
            _, secs, nsecs = struct.unpack_from("<III", msg._buff, 0)
            lat.append((now - (secs * 10**9 + nsecs)) / 1000.0)

    rospy.Subscriber(topic, rospy.AnyMsg, cb, tcp_nodelay=True)
    end = time.time() + timeout
    while len(lat) < n and time.time() < end and not rospy.is_shutdown():
        time.sleep(0.01)
    print(json.dumps({"latency_us": lat}))
    sys.stdout.flush()
    return 0 if len(lat) == n else 1


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "make_bag":
        return make_bag(args[0], args[1], args[2], float(args[3]), float(args[4]), int(args[5]))
    if cmd == "bag_stamps":
        return bag_stamps(args[0])
    rospy.init_node("rssmd_test_client", anonymous=True, disable_signals=True)
    if cmd == "echo":
        return echo(args[0], int(args[1]), float(args[2]))
    if cmd == "imagine":
        return imagine(args[0], args[1], args[2], int(args[3]), int(args[4]), args[5] == "1")
    if cmd == "latency":
        return latency(args[0], int(args[1]), float(args[2]))
    if cmd == "pub_image":
        return pub_image(args[0], args[1], int(args[2]), int(args[3]), float(args[4]),
                         int(args[5]) if len(args) > 5 else 5)
    print("unknown command " + cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
