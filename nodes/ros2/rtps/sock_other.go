//go:build !unix

package rtps

import (
	"errors"
	"net"
	"net/netip"
)

var errNoSockets = errors.New("rtps: UDP socket options are implemented for unix systems only")

func listenUDP(port int, shared bool) (*net.UDPConn, error) { return nil, errNoSockets }

func joinGroup(conn *net.UDPConn, group, ifAddr netip.Addr) error { return errNoSockets }

func setMulticastInterface(conn *net.UDPConn, ifAddr netip.Addr) error { return errNoSockets }
