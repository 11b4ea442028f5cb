package server

import (
	"log"
	"net"
	"os"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux/epoll"
	"github.com/muxkit/muxkit/statemachine"
	"github.com/panjf2000/gnet/v2"
)

// serveLoop is muxkit's reference loop on epoll, serving each connection
// with a ServerConn of the default configuration: an echo of lines.
func serveLoop(addr string, ready func()) error { return runLoop(addr, ready, false) }

// serveLoopEdge is serveLoop with every descriptor registered
// edge-triggered, once for its life.
func serveLoopEdge(addr string, ready func()) error { return runLoop(addr, ready, true) }

func runLoop(addr string, ready func(), edge bool) error {
	m, err := epoll.New()
	if err != nil {
		return err
	}
	l, err := loop.New(loop.Config{Mux: m, Sys: loop.OS(), EdgeTriggered: edge})
	if err != nil {
		return err
	}
	lfd, err := loop.OS().Listen(addr)
	if err != nil {
		return err
	}
	if err := l.Serve(lfd, func(now time.Time) loop.Task {
		s := statemachine.NewServerConn(statemachine.ServerConfig{}, now)
		return &s
	}, nil); err != nil {
		return err
	}
	ready()
	return l.Run()
}

// gnetEcho is gnet's echo server.
type gnetEcho struct {
	gnet.BuiltinEventEngine
	ready func()
}

func (g *gnetEcho) OnBoot(gnet.Engine) gnet.Action {
	g.ready()
	return gnet.None
}

func (g *gnetEcho) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	if _, err := c.Write(buf); err != nil {
		return gnet.Close
	}
	return gnet.None
}

func serveGnet(addr string, ready func()) error {
	return gnet.Run(&gnetEcho{ready: ready}, "tcp://"+addr,
		gnet.WithMulticore(false), gnet.WithNumEventLoop(1), gnet.WithLogger(gnetLog{log.New(os.Stderr, "gnet: ", 0)}))
}

// gnetLog sends gnet's log to standard error (its own logger writes to
// standard output, where the server says it is ready).
type gnetLog struct{ l *log.Logger }

func (g gnetLog) Debugf(format string, args ...any) { g.l.Printf(format, args...) }
func (g gnetLog) Infof(format string, args ...any)  { g.l.Printf(format, args...) }
func (g gnetLog) Warnf(format string, args ...any)  { g.l.Printf(format, args...) }
func (g gnetLog) Errorf(format string, args ...any) { g.l.Printf(format, args...) }
func (g gnetLog) Fatalf(format string, args ...any) { g.l.Fatalf(format, args...) }

// serveNet serves each connection on a goroutine of its own, reading into
// a buffer of the size ServerConn reads with.
func serveNet(addr string, ready func()) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ready()
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			buf := make([]byte, statemachine.DefaultReadSize)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}
