package loop

import (
	"syscall"

	"github.com/muxkit/muxkit/mux"
)

// maxAccepts bounds the connections accepted for one listener event.
const maxAccepts = 64

// listen starts serving a listener.
func (l *Loop) listen(j job) {
	fd := j.fd
	if err := l.checkFD(fd); err != nil {
		l.report(j.done, Result{FD: fd, Err: err})
		return
	}
	if err := l.m.Add(fd, l.listening()); err != nil {
		l.sys.Close(fd)
		l.report(j.done, Result{FD: fd, Err: err})
		return
	}
	l.gen++
	_, s := l.tasks.add(fd)
	s.kind, s.gen, s.done, s.newConn = slotListener, l.gen, j.done, j.newTask
	l.listeners = append(l.listeners, fd)
}

// listening is the interest of a listener.
func (l *Loop) listening() mux.Events {
	if l.edge {
		return mux.Readable | mux.EdgeTriggered
	}
	return mux.Readable
}

// pace resumes the listeners when room says there is room for more
// connections, and pauses them (removes them from the Multiplexer) when
// there is not; a stalled listener stays paused until a task finishes.
func (l *Loop) pace(room bool) {
	for i := 0; i < len(l.listeners); i++ {
		fd := l.listeners[i]
		s := l.tasks.get(fd)
		if s.stalled && l.nfinished > s.stallAt {
			s.stalled = false
		}
		want := room && !s.stalled
		switch {
		case want && s.paused:
			if err := l.m.Add(fd, l.listening()); err != nil {
				l.closeListener(i, err)
				i--
				continue
			}
			s.paused = false
		case !want && !s.paused:
			l.m.Remove(fd)
			s.paused = true
		}
	}
}

// accept accepts connections waiting on the listener lfd.
func (l *Loop) accept(lfd int) {
	s := l.tasks.get(lfd)
	newConn, done, gen := s.newConn, s.done, s.gen
	for range maxAccepts {
		if l.max > 0 && l.running >= l.max {
			return // admit pauses the listener before the next Wait
		}
		fd, err := l.sys.Accept(lfd)
		if err != nil {
			switch errno(err) {
			case syscall.EAGAIN:
				return // the backlog is empty
			case syscall.EINTR, syscall.ECONNABORTED:
				// Nothing taken, or a connection gone before it was: the
				// rest of the backlog is there, and edge-triggered no
				// report would say so. Try again (within maxAccepts).
				continue
			}
			// Out of descriptors or memory: the connection stays in the
			// backlog and the listener stays readable. Waiting on it would
			// spin, so pause it until a task finishes and frees something;
			// with no task to wait for, or for any other error (the
			// descriptor is no longer a listener), give up on it.
			if l.running == 0 || !resourceShortage(err) {
				for i, x := range l.listeners {
					if x == lfd {
						l.closeListener(i, err)
						break
					}
				}
				return
			}
			s := l.tasks.get(lfd) // register may have moved it
			s.stalled, s.stallAt = true, l.nfinished
			return
		}
		t := newConn(l.sys.Now())
		if t == nil {
			l.sys.Close(fd)
			continue
		}
		l.register(fd, t, done)
	}
	if l.edge {
		// Edge-triggered, the connections left in the backlog are not
		// reported again: accept them at the next turn.
		l.again = append(l.again, registration{lfd, gen})
	}
}

// resourceShortage reports whether err from accept means that the system
// is short of descriptors or memory for now.
func resourceShortage(err error) bool {
	switch errno(err) {
	case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM:
		return true
	}
	return false
}

// closeListeners removes and closes every listener.
func (l *Loop) closeListeners() {
	for len(l.listeners) > 0 {
		l.closeListener(len(l.listeners)-1, nil)
	}
}

// closeListener removes and closes l.listeners[i] and reports err.
func (l *Loop) closeListener(i int, err error) {
	fd := l.listeners[i]
	l.listeners = append(l.listeners[:i], l.listeners[i+1:]...)
	s := l.tasks.get(fd)
	if !s.paused {
		l.m.Remove(fd)
	}
	l.sys.Close(fd)
	done := s.done
	l.tasks.remove(fd)
	if done != nil {
		done(Result{FD: fd, Err: err})
	}
}
