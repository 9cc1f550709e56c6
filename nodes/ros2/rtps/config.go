package rtps

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/rssmd/rssmd/nodes/ros2/rtps/wire"
)

// Aliases of the wire types the API exposes.
type (
	GUID           = wire.GUID
	GUIDPrefix     = wire.GUIDPrefix
	EntityID       = wire.EntityID
	SequenceNumber = wire.SequenceNumber
	Parameter      = wire.Parameter
	SampleIdentity = wire.SampleIdentity
)

// DiscoveryRange limits where SPDP looks for peers
// (ROS_AUTOMATIC_DISCOVERY_RANGE).
type DiscoveryRange int

const (
	// Subnet announces by multicast on every chosen interface (default).
	Subnet DiscoveryRange = iota
	// Localhost announces by multicast on loopback only.
	Localhost
	// Off announces to static peers only.
	Off
)

func (r DiscoveryRange) String() string {
	switch r {
	case Subnet:
		return "SUBNET"
	case Localhost:
		return "LOCALHOST"
	case Off:
		return "OFF"
	}
	return "DiscoveryRange(" + strconv.Itoa(int(r)) + ")"
}

// Config configures a Participant. The zero value plus a DomainID is usable.
type Config struct {
	// DomainID is the DDS domain (ROS_DOMAIN_ID), 0..232; it selects the
	// UDP ports by the spec's mapping (§9.6.1.1): 7400 + 250*DomainID + ...
	DomainID int
	// Range limits automatic discovery; default Subnet.
	Range DiscoveryRange
	// StaticPeers are hosts or IPv4 addresses that get unicast SPDP
	// announcements on the metatraffic ports of participant ids
	// 0..StaticPeerParticipants-1; they work without multicast.
	StaticPeers []string
	// StaticPeerParticipants is how many participant ids per static peer
	// are announced to; default 10 (Cyclone's default index range; Fast
	// DDS's is 5).
	StaticPeerParticipants int
	// Interfaces restricts the IPv4 addresses used; default all up,
	// non-loopback IPv4 addresses (loopback with Localhost, or when nothing
	// else is up).
	Interfaces []netip.Addr
	// UserData is the participant USER_DATA, e.g. "enclave=/;".
	UserData []byte
	// Name is announced as PID_ENTITY_NAME when set.
	Name string
	// LeaseDuration is how long peers keep us without an announcement;
	// default 20 s.
	LeaseDuration time.Duration
	// AnnouncePeriod is the SPDP resend period; default 2 s (new
	// participants are also answered at once, so late joiners match
	// within a round trip).
	AnnouncePeriod time.Duration
	// HeartbeatPeriod is how often reliable writers with unacknowledged
	// data send HEARTBEATs; default 100 ms.
	HeartbeatPeriod time.Duration
	// MaxSampleSize bounds a sample we reassemble from fragments; default
	// 16 MiB.
	MaxSampleSize int
	// MaxReassemblyBytes bounds the memory of all partial samples;
	// default 64 MiB.
	MaxReassemblyBytes int
	// Logger receives discovery events; default slog.Default().
	Logger *slog.Logger

	// dropOutgoing, when set (tests), drops an outgoing datagram when it
	// returns true, to simulate loss.
	dropOutgoing func() bool
	// captured, when set (tests), sees every received datagram.
	captured func(b []byte)
}

// Errors returned by the constructors.
var (
	ErrConfig = errors.New("rtps: invalid configuration")
	ErrClosed = errors.New("rtps: participant closed")
)

func (c *Config) setDefaults() error {
	if c.DomainID < 0 || c.DomainID > 232 {
		return fmt.Errorf("%w: DomainID %d outside 0..232", ErrConfig, c.DomainID)
	}
	if c.Range < Subnet || c.Range > Off {
		return fmt.Errorf("%w: Range %d", ErrConfig, c.Range)
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = 20 * time.Second
	}
	if c.AnnouncePeriod == 0 {
		c.AnnouncePeriod = 2 * time.Second
	}
	if c.HeartbeatPeriod == 0 {
		c.HeartbeatPeriod = 100 * time.Millisecond
	}
	if c.StaticPeerParticipants == 0 {
		c.StaticPeerParticipants = 10
	}
	if c.MaxSampleSize == 0 {
		c.MaxSampleSize = 16 << 20
	}
	if c.MaxReassemblyBytes == 0 {
		c.MaxReassemblyBytes = 64 << 20
	}
	if c.LeaseDuration < time.Second || c.AnnouncePeriod <= 0 || c.AnnouncePeriod >= c.LeaseDuration {
		return fmt.Errorf("%w: LeaseDuration %v must be >= 1 s and above AnnouncePeriod %v", ErrConfig, c.LeaseDuration, c.AnnouncePeriod)
	}
	if c.StaticPeerParticipants < 0 || c.StaticPeerParticipants > 120 {
		return fmt.Errorf("%w: StaticPeerParticipants %d outside 1..120", ErrConfig, c.StaticPeerParticipants)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// ConfigFromEnv reads the ROS 2 discovery variables: ROS_DOMAIN_ID,
// ROS_AUTOMATIC_DISCOVERY_RANGE (SUBNET, LOCALHOST, OFF, SYSTEM_DEFAULT),
// ROS_STATIC_PEERS (';'-separated) and Humble's ROS_LOCALHOST_ONLY=1.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	if v := strings.TrimSpace(getenv("ROS_DOMAIN_ID")); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || d < 0 || d > 232 {
			return c, fmt.Errorf("%w: ROS_DOMAIN_ID=%q is not an integer in 0..232", ErrConfig, v)
		}
		c.DomainID = d
	}
	switch v := strings.ToUpper(strings.TrimSpace(getenv("ROS_AUTOMATIC_DISCOVERY_RANGE"))); v {
	case "", "SUBNET", "SYSTEM_DEFAULT":
		c.Range = Subnet
	case "LOCALHOST":
		c.Range = Localhost
	case "OFF":
		c.Range = Off
	default:
		return c, fmt.Errorf("%w: ROS_AUTOMATIC_DISCOVERY_RANGE=%q is not SUBNET, LOCALHOST, OFF or SYSTEM_DEFAULT", ErrConfig, v)
	}
	if v := strings.TrimSpace(getenv("ROS_LOCALHOST_ONLY")); v != "" && getenv("ROS_AUTOMATIC_DISCOVERY_RANGE") == "" {
		switch v {
		case "1":
			c.Range = Localhost
		case "0":
		default:
			return c, fmt.Errorf("%w: ROS_LOCALHOST_ONLY=%q is not 0 or 1", ErrConfig, v)
		}
	}
	for _, p := range strings.Split(getenv("ROS_STATIC_PEERS"), ";") {
		if p = strings.TrimSpace(p); p != "" {
			if strings.ContainsAny(p, " /") {
				return c, fmt.Errorf("%w: ROS_STATIC_PEERS entry %q is not a host or address", ErrConfig, p)
			}
			c.StaticPeers = append(c.StaticPeers, p)
		}
	}
	return c, nil
}

// Reliability of an endpoint.
type Reliability int

const (
	BestEffort Reliability = iota
	Reliable
)

// Durability of an endpoint.
type Durability int

const (
	Volatile Durability = iota
	TransientLocal
)

// QoS of a keyless endpoint with KEEP_LAST history.
type QoS struct {
	Reliability Reliability
	Durability  Durability
	// Depth is the KEEP_LAST depth; default 10.
	Depth int
}

func (q *QoS) check(what string) error {
	if q.Depth == 0 {
		q.Depth = 10
	}
	if q.Depth < 0 || q.Depth > 1<<16 {
		return fmt.Errorf("%w: %s QoS.Depth %d outside 1..65536", ErrConfig, what, q.Depth)
	}
	if q.Reliability != BestEffort && q.Reliability != Reliable {
		return fmt.Errorf("%w: %s QoS.Reliability %d", ErrConfig, what, q.Reliability)
	}
	if q.Durability != Volatile && q.Durability != TransientLocal {
		return fmt.Errorf("%w: %s QoS.Durability %d", ErrConfig, what, q.Durability)
	}
	return nil
}

func (q QoS) wireReliability() wire.ReliabilityKind {
	if q.Reliability == Reliable {
		return wire.ReliableReliability
	}
	return wire.BestEffortReliability
}

func (q QoS) wireDurability() wire.DurabilityKind {
	if q.Durability == TransientLocal {
		return wire.TransientLocalDurability
	}
	return wire.VolatileDurability
}

// Ports returns the well-known ports of a domain and participant id
// (§9.6.1.1): PB 7400, DG 250, PG 2, d0 0, d1 10, d2 1, d3 11.
func Ports(domain, participantID int) (spdpMulticast, metaUnicast, userMulticast, userUnicast int) {
	base := 7400 + 250*domain
	return base, base + 10 + 2*participantID, base + 1, base + 11 + 2*participantID
}

// SPDPMulticastGroup is the default SPDP multicast address (§9.6.1.4.1).
var SPDPMulticastGroup = netip.MustParseAddr("239.255.0.1")
