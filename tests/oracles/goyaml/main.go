// Command goyaml-oracle decodes YAML files the way kubectl and the API
// server do, and says per document whether the cluster's decoder accepts it.
// It is the reference of tokenguard's differential tests (tests/yaml_oracle.rs).
//
// The stream is cut as k8s.io/apimachinery/pkg/util/yaml's YAMLReader cuts
// it: line by line (a line ends at "\n"; a "\r" just before it is dropped),
// a line that starts with "---" ends the document, the separator line itself
// belongs to no document, and a separator followed by anything but blanks or
// a comment is an error ("invalid Yaml document separator"). Each document
// that is not empty is then decoded as sigs.k8s.io/yaml decodes it: go-yaml
// v2's yaml.Unmarshal into an interface{}, map keys turned into strings
// (string, int, int64, float64 and bool keys; any other key is an error),
// and the result marshalled to JSON (which refuses NaN and infinities).
//
// kubectl stops at the first error of a stream; this program goes on with
// the next document, so that every document is judged on its own, as
// tokenguard judges them.
//
// Usage: goyaml-oracle < list-of-paths. It reads one file path a line from
// standard input and writes one JSON object a line to standard output:
//
//	{"path": P, "documents": [{"start": S, "end": E, "line": L,
//	  "empty": B, "error": M, "error_line": N}, ...]}
//
// where [S, E) is the document's byte range in the file, from the start of
// its separator line (0 for the first document) to the start of the next
// separator line, so the documents cover the file; L is the 1-based line of
// its first byte; "error" is absent when the document is accepted, and
// "error_line" is the file's 1-based line the message names, when it names
// one. A file that cannot be read gives {"path": P, "read_error": M}.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v2"
)

type document struct {
	Start     int    `json:"start"`
	End       int    `json:"end"`
	Line      int    `json:"line"`
	Empty     bool   `json:"empty"`
	Error     string `json:"error,omitempty"`
	ErrorLine int    `json:"error_line,omitempty"`
}

type report struct {
	Path      string     `json:"path"`
	Documents []document `json:"documents,omitempty"`
	ReadError string     `json:"read_error,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 16*1024*1024)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	encoder := json.NewEncoder(out)
	encoder.SetEscapeHTML(false)
	for in.Scan() {
		path := in.Text()
		if path == "" {
			continue
		}
		r := report{Path: path}
		data, err := os.ReadFile(path)
		if err != nil {
			r.ReadError = err.Error()
		} else {
			r.Documents = judge(data)
		}
		if err := encoder.Encode(r); err != nil {
			fmt.Fprintln(os.Stderr, "goyaml-oracle:", err)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "goyaml-oracle: reading the list:", err)
		os.Exit(2)
	}
}

// piece is one document as the reader cuts it.
type piece struct {
	doc          document
	body         bytes.Buffer // the lines as YAMLReader hands them on
	firstBodyRow int          // 0-based file line of the body's first line
	separatorErr string       // the separator line that starts it is invalid
}

// judge cuts data into documents and decodes each.
func judge(data []byte) []document {
	var pieces []*piece
	current := &piece{doc: document{Start: 0, Line: 1}}
	row := 0 // 0-based line of the file
	for pos := 0; pos < len(data); row++ {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end < 0 {
			end = len(data)
		} else {
			end += pos
			next = end + 1
		}
		content := data[pos:end]
		if end < len(data) && len(content) > 0 && content[len(content)-1] == '\r' {
			content = content[:len(content)-1]
		}
		if bytes.HasPrefix(content, []byte("---")) {
			current.doc.End = pos
			pieces = append(pieces, current)
			current = &piece{doc: document{Start: pos, Line: row + 1}, firstBodyRow: row + 1}
			trimmed := strings.TrimSpace(string(content[3:]))
			if len(trimmed) > 0 && trimmed[0] != '#' {
				current.separatorErr = "invalid Yaml document separator: " + trimmed
			}
		} else {
			current.body.Write(content)
			current.body.WriteByte('\n')
		}
		pos = next
	}
	current.doc.End = len(data)
	pieces = append(pieces, current)

	documents := make([]document, 0, len(pieces))
	for _, p := range pieces {
		d := p.doc
		switch {
		case p.separatorErr != "":
			d.Error = p.separatorErr
			d.ErrorLine = d.Line
		case p.body.Len() == 0:
			d.Empty = true
		default:
			if err := decode(p.body.Bytes()); err != nil {
				d.Error = err.Error()
				if n, ok := lineOf(d.Error); ok {
					d.ErrorLine = p.firstBodyRow + n
				}
			}
		}
		documents = append(documents, d)
	}
	return documents
}

var lineInMessage = regexp.MustCompile(`line (\d+)`)

// lineOf is the 1-based line of the document that go-yaml's message names.
func lineOf(message string) (int, bool) {
	m := lineInMessage.FindStringSubmatch(message)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// decode is sigs.k8s.io/yaml's Unmarshal into an interface{}.
func decode(body []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the decoder panicked: %v", p)
		}
	}()
	var value interface{}
	if err := yaml.Unmarshal(body, &value); err != nil {
		return err
	}
	converted, err := jsonable(value)
	if err != nil {
		return err
	}
	_, err = json.Marshal(converted)
	return err
}

// jsonable turns go-yaml's maps into string-keyed maps, refusing the keys
// sigs.k8s.io/yaml refuses.
func jsonable(value interface{}) (interface{}, error) {
	switch v := value.(type) {
	case map[interface{}]interface{}:
		out := make(map[string]interface{}, len(v))
		for key, item := range v {
			var name string
			switch k := key.(type) {
			case string:
				name = k
			case int:
				name = strconv.Itoa(k)
			case int64:
				name = strconv.FormatInt(k, 10)
			case float64:
				name = strconv.FormatFloat(k, 'g', -1, 32)
			case bool:
				name = strconv.FormatBool(k)
			default:
				return nil, fmt.Errorf("unsupported map key of type: %s, key: %+#v", reflect.TypeOf(key), key)
			}
			converted, err := jsonable(item)
			if err != nil {
				return nil, err
			}
			out[name] = converted
		}
		return out, nil
	case []interface{}:
		out := make([]interface{}, len(v))
		for i, item := range v {
			converted, err := jsonable(item)
			if err != nil {
				return nil, err
			}
			out[i] = converted
		}
		return out, nil
	default:
		return value, nil
	}
}
