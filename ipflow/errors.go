package ipflow

import "errors"

// Reasons a rule, a request or a network cannot be evaluated. Errors
// returned by this package wrap one of them.
var (
	ErrBadAccess    = errors.New("bad access")
	ErrBadDirection = errors.New("bad direction")
	ErrBadProtocol  = errors.New("bad protocol")
	ErrBadPort      = errors.New("bad port")
	ErrBadAddress   = errors.New("bad address")
	ErrUnknownTag   = errors.New("unknown service tag")
	ErrUnknownASG   = errors.New("unknown application security group")
)
