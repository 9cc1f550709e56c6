//go:build unix

package rtps

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// listenUDP binds 0.0.0.0:port. Shared sockets (the SPDP multicast port,
// which every participant on a host binds) set SO_REUSEADDR and
// SO_REUSEPORT like Cyclone DDS and Fast DDS do; unicast ports stay
// exclusive so a taken port means a taken participant id.
func listenUDP(port int, shared bool) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if shared {
				if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); serr != nil {
					return
				}
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", port))
	if err != nil {
		return nil, err
	}
	conn := pc.(*net.UDPConn)
	// Fragmented images arrive in bursts; the kernel caps this at rmem_max.
	_ = conn.SetReadBuffer(8 << 20)
	_ = conn.SetWriteBuffer(4 << 20)
	return conn, nil
}

func rawControl(conn *net.UDPConn, f func(fd int) error) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// joinGroup joins an IPv4 multicast group on the interface with address
// ifAddr.
func joinGroup(conn *net.UDPConn, group, ifAddr netip.Addr) error {
	return rawControl(conn, func(fd int) error {
		mreq := &unix.IPMreq{Multiaddr: group.As4(), Interface: ifAddr.As4()}
		return unix.SetsockoptIPMreq(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq)
	})
}

// setMulticastInterface picks the interface outgoing multicast leaves by,
// and keeps loopback of our own multicast on so peers on this host hear us.
func setMulticastInterface(conn *net.UDPConn, ifAddr netip.Addr) error {
	return rawControl(conn, func(fd int) error {
		if err := unix.SetsockoptInet4Addr(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, ifAddr.As4()); err != nil {
			return err
		}
		return unix.SetsockoptByte(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 1)
	})
}
