package topology

import (
	"errors"
	"fmt"
	"strconv"
)

// ProblemKind classifies a Problem so that callers can filter or count
// problems without matching message text.
type ProblemKind string

// Problem kinds.
const (
	// ProblemDangling: a reference names a resource the export lacks.
	ProblemDangling ProblemKind = "dangling-reference"
	// ProblemDuplicatePriority: two user rules of one NSG share a
	// priority and a direction.
	ProblemDuplicatePriority ProblemKind = "duplicate-priority"
	// ProblemBadPrefix: an address prefix that is neither an IP, a CIDR,
	// "*" nor a service tag, or a CIDR where only a CIDR is allowed.
	ProblemBadPrefix ProblemKind = "bad-prefix"
	// ProblemBadPortRange: a port token that is not "*", "N" or "N-M".
	ProblemBadPortRange ProblemKind = "bad-port-range"
	// ProblemBadValue: a value of the wrong JSON type or outside its enum
	// or range (priority, direction, protocol, next hop type, IP address).
	ProblemBadValue ProblemKind = "bad-value"
	// ProblemMissingValue: a required field (priority, direction, access,
	// protocol, a rule's addresses or ports, a route's next hop) is absent.
	ProblemMissingValue ProblemKind = "missing-value"
	// ProblemASGVNet: members of one ASG, or the ASGs on both sides of a
	// rule, are in different VNets.
	ProblemASGVNet ProblemKind = "asg-across-vnets"
	// ProblemUnknownType: a resource of a type this package does not
	// model; it was skipped.
	ProblemUnknownType ProblemKind = "unknown-type"
	// ProblemExpression: an ARM template expression that cannot be
	// resolved offline; the value was ignored.
	ProblemExpression ProblemKind = "template-expression"
	// ProblemSkipped: JSON that holds no resource (a Network Watcher
	// result, an object of unknown shape); it was skipped.
	ProblemSkipped ProblemKind = "skipped"
	// ProblemConflict: two parts of the export disagree, for example a
	// subnet naming one NSG while another NSG lists the subnet.
	ProblemConflict ProblemKind = "conflict"
)

// Problem is something wrong or unusable in an export. Loading goes on
// past problems; each one says where it is.
type Problem struct {
	// File is the name given to Network.Add (the path for Load).
	File string
	// Path is a JSON path into the file, such as
	// $.resources[3].properties.securityRules[1]. Keys are spelled as in
	// the file. A file holding several JSON values numbers them: $[1]
	// is the second value only when the file has more than one.
	Path    string
	Kind    ProblemKind
	Message string
}

// String formats p as "file: path: message".
func (p Problem) String() string {
	s := p.File
	if p.Path != "" {
		if s != "" {
			s += ": "
		}
		s += p.Path
	}
	if s != "" {
		s += ": "
	}
	return s + p.Message
}

// ErrNotJSON is the reason of a SyntaxError: the file is not JSON.
var ErrNotJSON = errors.New("not JSON")

// SyntaxError reports a file that is not JSON. Offset is the 0-based
// position of the byte where decoding failed (the end of the file when it
// ends early), Line and Column (1-based, in bytes) the same place; they
// count in UTF-8, after decoding files written in UTF-16.
// errors.Is(err, ErrNotJSON) holds for it.
type SyntaxError struct {
	File         string
	Offset       int64
	Line, Column int
	Err          error
}

func (e *SyntaxError) Error() string {
	return e.File + ": not JSON at byte offset " + strconv.FormatInt(e.Offset, 10) +
		" (line " + strconv.Itoa(e.Line) + ", column " + strconv.Itoa(e.Column) + "): " + e.Err.Error()
}

// Unwrap returns the decoder's error.
func (e *SyntaxError) Unwrap() error { return e.Err }

// Is reports whether target is ErrNotJSON.
func (e *SyntaxError) Is(target error) bool { return target == ErrNotJSON }

// Lookup errors.
var (
	ErrNotFound  = errors.New("not found")
	ErrAmbiguous = errors.New("ambiguous")
)

// LookupError is returned by the lookups (Network.NIC, Network.VM, …) when
// a query names no resource or, by name, several. Err is ErrNotFound or
// ErrAmbiguous; Candidates holds the ids that matched, sorted.
type LookupError struct {
	What       string // "network interface", "virtual machine", …
	Query      string
	Candidates []string
	Err        error
}

func (e *LookupError) Error() string {
	s := fmt.Sprintf("%s %q: %v", e.What, e.Query, e.Err)
	if len(e.Candidates) > 0 {
		s += fmt.Sprintf(" (%d candidates:", len(e.Candidates))
		for _, c := range e.Candidates {
			s += " " + c
		}
		s += ")"
	}
	return s
}

// Unwrap returns ErrNotFound or ErrAmbiguous.
func (e *LookupError) Unwrap() error { return e.Err }
