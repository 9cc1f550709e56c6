package msg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrDefinition is wrapped by errors of ParseMessage and ParseService.
var ErrDefinition = errors.New("msg: invalid interface definition")

var primitiveIDs = map[string]uint8{
	"bool": TypeBoolean, "byte": TypeByte, "char": TypeUint8, // ROS 2 reads char as uint8
	"int8": TypeInt8, "uint8": TypeUint8, "int16": TypeInt16, "uint16": TypeUint16,
	"int32": TypeInt32, "uint32": TypeUint32, "int64": TypeInt64, "uint64": TypeUint64,
	"float32": TypeFloat, "float64": TypeDouble, "string": TypeString, "wstring": TypeWString,
}

// ParseMessage reads the fields of a ROS 2 .msg file into the description of the type
// named name ("pkg/msg/Name"). Comments, blank lines and constants are skipped (constants
// are not part of a type description); default values are checked for presence only.
func ParseMessage(name, text string) (TypeDescription, error) {
	pkg, _, ok := strings.Cut(name, "/")
	if !ok || pkg == "" {
		return TypeDescription{}, fmt.Errorf("%w: type name %q is not pkg/msg/Name", ErrDefinition, name)
	}
	t := TypeDescription{Name: name}
	seen := map[string]bool{}
	for i, line := range strings.Split(text, "\n") {
		f, ok, err := parseLine(pkg, line)
		if err != nil {
			return TypeDescription{}, fmt.Errorf("%w: %s line %d: %w", ErrDefinition, name, i+1, err)
		}
		if !ok {
			continue
		}
		if seen[f.Name] {
			return TypeDescription{}, fmt.Errorf("%w: %s line %d: field %q repeated", ErrDefinition, name, i+1, f.Name)
		}
		seen[f.Name] = true
		t.Fields = append(t.Fields, f)
	}
	if len(t.Fields) == 0 {
		t.Fields = []Field{emptyStructField}
	}
	return t, nil
}

// ParseService reads a .srv file of the service named name ("pkg/srv/Name") into the
// descriptions ServiceDescriptions makes.
func ParseService(name, text string) ([]TypeDescription, error) {
	var req, resp []string
	cur := &req
	seps := 0
	for line := range strings.SplitSeq(text, "\n") {
		if strings.TrimSpace(line) == "---" {
			seps++
			cur = &resp
			continue
		}
		*cur = append(*cur, line)
	}
	if seps != 1 {
		return nil, fmt.Errorf("%w: %s: %d --- separators, want 1", ErrDefinition, name, seps)
	}
	rq, err := ParseMessage(name+"_Request", strings.Join(req, "\n"))
	if err != nil {
		return nil, err
	}
	rs, err := ParseMessage(name+"_Response", strings.Join(resp, "\n"))
	if err != nil {
		return nil, err
	}
	return ServiceDescriptions(name, rq.Fields, rs.Fields), nil
}

func parseLine(pkg, line string) (Field, bool, error) {
	// A '#' starts a comment, except inside a constant's value (NAME=va#lue) of a string
	// constant; constants are skipped anyway, so cut at the first '#' once we know this
	// line is not one.
	code := line
	if i := strings.IndexByte(code, '#'); i >= 0 {
		code = code[:i]
	}
	words := strings.Fields(code)
	if len(words) == 0 {
		return Field{}, false, nil
	}
	if len(words) >= 2 && strings.Contains(strings.Join(words[1:], " "), "=") {
		return Field{}, false, nil // a constant: TYPE NAME=VALUE
	}
	if len(words) < 2 {
		return Field{}, false, fmt.Errorf("%q: want TYPE NAME", strings.TrimSpace(line))
	}
	ft, err := parseType(pkg, words[0])
	if err != nil {
		return Field{}, false, err
	}
	if err := validFieldName(words[1]); err != nil {
		return Field{}, false, err
	}
	return Field{Name: words[1], Type: ft}, true, nil
}

func validFieldName(n string) error {
	if n == "" || n[0] < 'a' || n[0] > 'z' {
		return fmt.Errorf("field name %q must start with a lowercase letter", n)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("field name %q: %q is not a lowercase letter, digit or _", n, c)
		}
	}
	if strings.Contains(n, "__") || strings.HasSuffix(n, "_") {
		return fmt.Errorf("field name %q has a double or trailing underscore", n)
	}
	return nil
}

func parseType(pkg, s string) (FieldType, error) {
	base, arr := s, ""
	if i := strings.IndexByte(s, '['); i >= 0 {
		if !strings.HasSuffix(s, "]") {
			return FieldType{}, fmt.Errorf("type %q: unclosed [", s)
		}
		base, arr = s[:i], s[i+1:len(s)-1]
	}
	var ft FieldType
	var strCap string
	if b, c, ok := strings.Cut(base, "<="); ok {
		base, strCap = b, c
	}
	if id, ok := primitiveIDs[base]; ok {
		ft.TypeID = id
		if strCap != "" {
			n, err := strconv.ParseUint(strCap, 10, 64)
			if err != nil || n == 0 || (base != "string" && base != "wstring") {
				return FieldType{}, fmt.Errorf("type %q: bad string bound", s)
			}
			ft.TypeID += TypeBoundedString - TypeString
			ft.StringCapacity = n
		}
	} else {
		if strCap != "" {
			return FieldType{}, fmt.Errorf("type %q: only strings take <=", s)
		}
		p, n, ok := strings.Cut(base, "/")
		if !ok {
			p, n = pkg, base
		}
		if p == "" || n == "" || strings.Contains(n, "/") || n[0] < 'A' || n[0] > 'Z' {
			return FieldType{}, fmt.Errorf("type %q is neither a primitive nor pkg/Name", s)
		}
		ft.TypeID = TypeNested
		ft.NestedTypeName = p + "/msg/" + n
	}
	switch {
	case !strings.Contains(s, "["):
	case arr == "":
		ft.TypeID += SeqOffset
	case strings.HasPrefix(arr, "<="):
		n, err := strconv.ParseUint(arr[2:], 10, 64)
		if err != nil || n == 0 {
			return FieldType{}, fmt.Errorf("type %q: bad sequence bound", s)
		}
		ft.TypeID += BoundedSeqOffset
		ft.Capacity = n
	default:
		n, err := strconv.ParseUint(arr, 10, 64)
		if err != nil || n == 0 {
			return FieldType{}, fmt.Errorf("type %q: bad array size", s)
		}
		ft.TypeID += ArrayOffset
		ft.Capacity = n
	}
	return ft, nil
}
