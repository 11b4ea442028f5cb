package statemachine

import "slices"

// clientTable is every transition a Client can make. The property tests
// check that a Client makes no other and that every one is made.
var clientTable = [...]Transition{
	{Connecting, OnReady, Connecting},
	{Connecting, OnSpurious, Connecting},
	{Connecting, OnTick, Connecting},
	{Connecting, OnConnecting, Connecting},
	{Connecting, OnConnected, Sending},
	{Connecting, OnConnected, Receiving},
	{Connecting, OnConnected, Done},
	{Connecting, OnConnectFailed, Failed},
	{Connecting, OnDeadline, Failed},

	{Sending, OnReady, Sending},
	{Sending, OnSpurious, Sending},
	{Sending, OnTick, Sending},
	{Sending, OnWrotePart, Sending},
	{Sending, OnWriteBlocked, Sending},
	{Sending, OnWroteAll, Receiving},
	{Sending, OnWroteAll, Done},
	{Sending, OnWriteFailed, Failed},
	{Sending, OnPeerClosed, Failed},
	{Sending, OnDeadline, Failed},

	{Receiving, OnReady, Receiving},
	{Receiving, OnSpurious, Receiving},
	{Receiving, OnTick, Receiving},
	{Receiving, OnData, Receiving},
	{Receiving, OnReadBlocked, Receiving},
	{Receiving, OnComplete, Done},
	{Receiving, OnEOF, Failed},
	{Receiving, OnTooLarge, Failed},
	{Receiving, OnMalformed, Failed},
	{Receiving, OnReadFailed, Failed},
	{Receiving, OnDeadline, Failed},
}

// serverTable is every transition a ServerConn can make. The property
// tests check that a ServerConn makes no other and that every one is made.
var serverTable = [...]Transition{
	{Open, OnReady, Open},
	{Open, OnSpurious, Open},
	{Open, OnTick, Open},
	{Open, OnData, Open},
	{Open, OnData, Throttled},
	{Open, OnReadBlocked, Open},
	{Open, OnWrotePart, Open},
	{Open, OnWroteAll, Open},
	{Open, OnWriteBlocked, Open},
	{Open, OnEOF, Draining},
	{Open, OnEOF, Closed},
	{Open, OnTooLarge, Failed},
	{Open, OnMalformed, Failed},
	{Open, OnReadFailed, Failed},
	{Open, OnWriteFailed, Failed},
	{Open, OnDeadline, Failed},

	{Throttled, OnReady, Throttled},
	{Throttled, OnSpurious, Throttled},
	{Throttled, OnTick, Throttled},
	{Throttled, OnWrotePart, Throttled},
	{Throttled, OnWrotePart, Open},
	{Throttled, OnWroteAll, Throttled},
	{Throttled, OnWroteAll, Open},
	{Throttled, OnWriteBlocked, Throttled},
	{Throttled, OnWriteBlocked, Open},
	{Throttled, OnMalformed, Failed},
	{Throttled, OnWriteFailed, Failed},
	{Throttled, OnDeadline, Failed},

	{Draining, OnReady, Draining},
	{Draining, OnSpurious, Draining},
	{Draining, OnTick, Draining},
	{Draining, OnWrotePart, Draining},
	{Draining, OnWroteAll, Closed},
	{Draining, OnWriteBlocked, Draining},
	{Draining, OnWriteFailed, Failed},
	{Draining, OnDeadline, Failed},
}

// ClientTransitions returns every transition a [Client] can make. A Client
// starts in [Connecting] and ends in [Done] or [Failed].
func ClientTransitions() []Transition { return slices.Clone(clientTable[:]) }

// ServerTransitions returns every transition a [ServerConn] can make. A
// ServerConn starts [Open] and ends [Closed] or [Failed].
func ServerTransitions() []Transition { return slices.Clone(serverTable[:]) }
