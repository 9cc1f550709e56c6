package rtps

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	cases := []struct {
		env     map[string]string
		want    Config
		errPart string
	}{
		{env: nil, want: Config{}},
		{env: map[string]string{"ROS_DOMAIN_ID": "42", "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}, want: Config{DomainID: 42, Range: Localhost}},
		{env: map[string]string{"ROS_AUTOMATIC_DISCOVERY_RANGE": "OFF", "ROS_STATIC_PEERS": "192.168.1.5; robot.local;"}, want: Config{Range: Off, StaticPeers: []string{"192.168.1.5", "robot.local"}}},
		{env: map[string]string{"ROS_AUTOMATIC_DISCOVERY_RANGE": "system_default"}, want: Config{Range: Subnet}},
		{env: map[string]string{"ROS_LOCALHOST_ONLY": "1"}, want: Config{Range: Localhost}},
		// Jazzy: the new variable wins over Humble's.
		{env: map[string]string{"ROS_LOCALHOST_ONLY": "1", "ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}, want: Config{Range: Subnet}},
		{env: map[string]string{"ROS_DOMAIN_ID": "233"}, errPart: `ROS_DOMAIN_ID="233"`},
		{env: map[string]string{"ROS_DOMAIN_ID": "x"}, errPart: `ROS_DOMAIN_ID="x"`},
		{env: map[string]string{"ROS_AUTOMATIC_DISCOVERY_RANGE": "LAN"}, errPart: `ROS_AUTOMATIC_DISCOVERY_RANGE="LAN"`},
		{env: map[string]string{"ROS_LOCALHOST_ONLY": "yes"}, errPart: `ROS_LOCALHOST_ONLY="yes"`},
		{env: map[string]string{"ROS_STATIC_PEERS": "a b"}, errPart: `ROS_STATIC_PEERS entry "a b"`},
	}
	for _, c := range cases {
		got, err := ConfigFromEnv(func(k string) string { return c.env[k] })
		if c.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), c.errPart) || !errors.Is(err, ErrConfig) {
				t.Errorf("%v: error %v, want one quoting %s", c.env, err, c.errPart)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: got %+v, %v; want %+v", c.env, got, err, c.want)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	for _, c := range []struct {
		conf    Config
		errPart string
	}{
		{Config{DomainID: 233}, "DomainID 233"},
		{Config{DomainID: -1}, "DomainID -1"},
		{Config{LeaseDuration: 2 * time.Second, AnnouncePeriod: 3 * time.Second}, "LeaseDuration 2s"},
		{Config{Range: 7}, "Range 7"},
	} {
		if err := c.conf.setDefaults(); err == nil || !strings.Contains(err.Error(), c.errPart) {
			t.Errorf("%+v: %v, want an error quoting %q", c.conf, err, c.errPart)
		}
	}
	var c Config
	if err := c.setDefaults(); err != nil || c.LeaseDuration != 20*time.Second || c.AnnouncePeriod != 2*time.Second || c.StaticPeerParticipants != 10 {
		t.Fatalf("defaults %+v %v", c, err)
	}
	q := QoS{Depth: -3}
	if err := q.check("writer rt/x"); err == nil || !strings.Contains(err.Error(), "writer rt/x QoS.Depth -3") {
		t.Fatalf("depth check: %v", err)
	}
}

func TestPorts(t *testing.T) {
	// §9.6.1.1 with the default parameters; domain 0 participant 0 is the
	// familiar 7400/7410/7401/7411, domain 1 participant 2 adds 250 and 4.
	if a, b, c, d := Ports(0, 0); a != 7400 || b != 7410 || c != 7401 || d != 7411 {
		t.Fatal(a, b, c, d)
	}
	if a, b, c, d := Ports(1, 2); a != 7650 || b != 7664 || c != 7651 || d != 7665 {
		t.Fatal(a, b, c, d)
	}
}

// Two participants on one host (distinct ports) find each other by
// multicast SPDP on loopback, inside a network namespace.
func TestMulticastDiscoveryLocalhost(t *testing.T) {
	if !inNetns(t) {
		return
	}
	c := Config{DomainID: 3, Range: Localhost, Logger: testLogger(t), AnnouncePeriod: 5 * time.Second}
	a := newTestParticipant(t, c)
	b := newTestParticipant(t, c)
	if a.ParticipantID() == b.ParticipantID() {
		t.Fatalf("both took participant id %d", a.ParticipantID())
	}
	q := QoS{Reliability: Reliable}
	w, _ := a.NewWriter(WriterConfig{Topic: "rt/mc", TypeName: testType, QoS: q})
	col := newCollector()
	b.NewReader(ReaderConfig{Topic: "rt/mc", TypeName: testType, QoS: q, OnSample: col.on})
	// Well within the 5 s announce period: the first announcement and the
	// prompt answer to a new participant do it.
	waitMatched(t, "writer", w.Matched, 1, 2*time.Second)
	w.Write(payload(1, 16), time.Now())
	col.wait(t, 1, 2*time.Second)
}

func TestInterfacesOption(t *testing.T) {
	_, err := NewParticipant(context.Background(), Config{DomainID: testDomain(), Interfaces: []netip.Addr{netip.MustParseAddr("192.0.2.77")}, Logger: testLogger(t)})
	if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "192.0.2.77") {
		t.Fatalf("an address no interface has: %v", err)
	}
	c := localConfig(t, testDomain())
	c.Interfaces = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	p := newTestParticipant(t, c)
	var locs []netip.AddrPort
	p.call(func() { locs = p.pickLocators(p.metaLocators()) })
	_, meta, _, _ := Ports(c.DomainID, p.ParticipantID())
	if len(locs) != 1 || locs[0] != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(meta)) {
		t.Fatalf("advertised metatraffic locators %v", locs)
	}
}
