//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// A target is one URL to fetch: where to connect and what to send.
type target struct {
	URL     string         // as given
	Addr    netip.AddrPort // where to connect
	Request []byte         // the whole GET request
}

// userAgent is the User-Agent of every request the command sends.
const userAgent = "muxkit"

// parseTarget parses a URL for fetch. Only plain http is supported, and
// only hosts that are IP addresses or "localhost": the event loop connects
// to addresses, and the command does no other name resolution, so that it
// never reaches beyond what the user named.
func parseTarget(ctx context.Context, raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, err // *url.Error names the URL
	}
	switch {
	case u.Scheme != "http":
		return target{}, fmt.Errorf("%q: scheme %q not supported (only http)", raw, u.Scheme)
	case u.Opaque != "":
		return target{}, fmt.Errorf("%q: not an absolute http URL", raw)
	case u.Host == "" || u.Hostname() == "":
		return target{}, fmt.Errorf("%q: no host", raw)
	case u.User != nil:
		return target{}, fmt.Errorf("%q: user information not supported", raw)
	}
	port := 80
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return target{}, fmt.Errorf("%q: bad port %q", raw, p)
		}
		port = n
	}
	addr, err := resolve(ctx, u.Hostname())
	if err != nil {
		return target{}, fmt.Errorf("%q: %w", raw, err)
	}
	return target{
		URL:     raw,
		Addr:    netip.AddrPortFrom(addr, uint16(port)),
		Request: getRequest(u),
	}, nil
}

// resolve returns the address of host: an IP address as it is, or one of
// localhost's addresses, IPv4 first.
func resolve(ctx context.Context, host string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return netip.Addr{}, fmt.Errorf("host %q: IPv6 zones are not supported", host)
		}
		return a.Unmap(), nil
	}
	if host != "localhost" {
		return netip.Addr{}, fmt.Errorf("host %q: only IP addresses and localhost are supported", host)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(addrs) == 0 {
		return netip.Addr{}, errors.New("localhost has no address")
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	slices.SortStableFunc(addrs, func(a, b netip.Addr) int {
		switch {
		case a.Is4() == b.Is4():
			return 0
		case a.Is4():
			return -1
		}
		return 1
	})
	return addrs[0], nil
}

// getRequest returns the HTTP/1.1 GET request for u. It asks the server to
// close the connection after the response.
func getRequest(u *url.URL) []byte {
	path := u.RequestURI() // path and query, "/" when empty; no fragment
	return fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n",
		path, u.Host, userAgent)
}
