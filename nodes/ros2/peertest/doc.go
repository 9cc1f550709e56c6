// Package peertest runs real ROS 2-shaped DDS peers against each other and, later, against
// rssmd's own RTPS participant: cyclone-peer (Cyclone DDS, the DDS of rmw_cyclonedds) and
// fastdds-peer (Fast DDS, the DDS of rmw_fastrtps), built from the C/C++ sources and IDL in this
// folder by Build; InNetns/RequireNetns/SetLoss give each test binary a private network
// namespace with optional packet loss; Start wraps a peer process and turns its JSON lines into
// Events. README.md has the command line and the ROS 2 service conventions on the wire.
package peertest
