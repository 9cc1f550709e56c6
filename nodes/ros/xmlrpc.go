package ros

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// goroslib's parameter client only decodes a value of the type the caller guesses, and
// `rosparam set ~rate 20` stores an int where a float was expected; the node therefore reads
// its private namespace with one untyped getParam call decoded here (XML-RPC, as the ROS
// master speaks it).

// maxParamResponse bounds what a getParam answer may hold: a node's private parameters are a
// few hundred bytes; a huge answer is an error, not an allocation.
const maxParamResponse = 1 << 20

// getParamAny calls the master's getParam(caller, key) and returns the value as Go types:
// int, float64, bool, string, []any, map[string]any. found is false when the key is not set.
func getParamAny(ctx context.Context, hc *http.Client, masterAddr, caller, key string) (v any, found bool, err error) {
	var body bytes.Buffer
	body.WriteString(`<?xml version="1.0"?><methodCall><methodName>getParam</methodName><params>`)
	for _, s := range []string{caller, key} {
		body.WriteString("<param><value><string>")
		xml.EscapeText(&body, []byte(s))
		body.WriteString("</string></value></param>")
	}
	body.WriteString("</params></methodCall>")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+masterAddr+"/RPC2", &body)
	if err != nil {
		return nil, false, fmt.Errorf("getParam %s: %w", key, err)
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("getParam %s: %w", key, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, false, fmt.Errorf("getParam %s: HTTP %s", key, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxParamResponse+1))
	if err != nil {
		return nil, false, fmt.Errorf("getParam %s: %w", key, err)
	}
	if len(data) > maxParamResponse {
		return nil, false, fmt.Errorf("getParam %s: answer over %d bytes", key, maxParamResponse)
	}
	res, err := decodeResponse(data)
	if err != nil {
		return nil, false, fmt.Errorf("getParam %s: %w", key, err)
	}
	// The ROS master API answers [code, statusMessage, value]; code -1: not set.
	arr, ok := res.([]any)
	if !ok || len(arr) != 3 {
		return nil, false, fmt.Errorf("getParam %s: answer %v is not [code, message, value]", key, res)
	}
	code, _ := arr[0].(int)
	switch code {
	case 1:
		return arr[2], true, nil
	case -1:
		return nil, false, nil
	default:
		return nil, false, fmt.Errorf("getParam %s: master error %d: %v", key, code, arr[1])
	}
}

// errXMLRPC marks an answer that is not well-formed XML-RPC.
var errXMLRPC = errors.New("malformed XML-RPC answer")

// maxDepth bounds nesting (arrays of structs of ...) so a hostile answer cannot recurse deep.
const maxDepth = 32

func decodeResponse(data []byte) (any, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: no value: %w", errXMLRPC, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "fault":
				v, err := decodeValueIn(d, 0)
				if err != nil {
					return nil, err
				}
				return nil, fmt.Errorf("XML-RPC fault: %v", v)
			case "value":
				return decodeValue(d, 0)
			}
		}
	}
}

// decodeValueIn skips to the next <value> and decodes it.
func decodeValueIn(d *xml.Decoder, depth int) (any, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errXMLRPC, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "value" {
				return decodeValue(d, depth)
			}
		case xml.EndElement:
			return nil, fmt.Errorf("%w: </%s> before a value", errXMLRPC, t.Name.Local)
		}
	}
}

// decodeValue decodes the inside of a <value> whose start tag was read, through its end tag.
func decodeValue(d *xml.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", errXMLRPC, maxDepth)
	}
	var text strings.Builder
	var v any
	typed := false
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errXMLRPC, err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.EndElement: // </value>
			if !typed {
				return text.String(), nil // an untyped value is a string
			}
			return v, nil
		case xml.StartElement:
			if typed {
				return nil, fmt.Errorf("%w: two types in one value", errXMLRPC)
			}
			typed = true
			if v, err = decodeTyped(d, t.Name.Local, depth); err != nil {
				return nil, err
			}
		}
	}
}

func decodeTyped(d *xml.Decoder, typ string, depth int) (any, error) {
	switch typ {
	case "array":
		var out []any
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, fmt.Errorf("%w: %w", errXMLRPC, err)
			}
			switch t := tok.(type) {
			case xml.StartElement:
				if t.Name.Local == "value" {
					e, err := decodeValue(d, depth+1)
					if err != nil {
						return nil, err
					}
					out = append(out, e)
				}
			case xml.EndElement:
				if t.Name.Local == "array" {
					return out, nil
				}
			}
		}
	case "struct":
		out := map[string]any{}
		var name string
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, fmt.Errorf("%w: %w", errXMLRPC, err)
			}
			switch t := tok.(type) {
			case xml.StartElement:
				switch t.Name.Local {
				case "name":
					var s string
					if err := d.DecodeElement(&s, &t); err != nil {
						return nil, fmt.Errorf("%w: %w", errXMLRPC, err)
					}
					name = s
				case "value":
					e, err := decodeValue(d, depth+1)
					if err != nil {
						return nil, err
					}
					out[name] = e
				}
			case xml.EndElement:
				if t.Name.Local == "struct" {
					return out, nil
				}
			}
		}
	case "nil":
		return nil, d.Skip()
	}
	var s string
	if err := d.DecodeElement(&s, &xml.StartElement{Name: xml.Name{Local: typ}}); err != nil {
		return nil, fmt.Errorf("%w: <%s>: %w", errXMLRPC, typ, err)
	}
	switch typ {
	case "int", "i4", "i8":
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%w: <%s>%s: %w", errXMLRPC, typ, s, err)
		}
		return n, nil
	case "double":
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("%w: <double>%s: %w", errXMLRPC, s, err)
		}
		return f, nil
	case "boolean":
		switch strings.TrimSpace(s) {
		case "1":
			return true, nil
		case "0":
			return false, nil
		}
		return nil, fmt.Errorf("%w: <boolean>%s", errXMLRPC, s)
	case "string", "base64", "dateTime.iso8601":
		return s, nil
	}
	return nil, fmt.Errorf("%w: unknown type <%s>", errXMLRPC, typ)
}
