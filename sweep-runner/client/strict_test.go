package client

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestParseChunkStrict: ParseChunk checks the JSON syntax itself (no
// separate json.Valid pass); every chunk encoding/json rejects is malformed,
// and well-formed chunks still parse.
func TestParseChunkStrict(t *testing.T) {
	const ok = `{"choices":[{"index":0,"text":" the","logprobs":null,"finish_reason":null}],"sim_t_ns":12}`
	bad := []string{
		`{"choices":[{"text":"a"}],"x":}`, `{"choices":[1,]}`, `{"choices":[],}`, `{"choices":[]} x`,
		`{"choices":[]}{}`, `{"choices":[{"text":"a\q"}]}`, `{"choices":[{"text":"a\u12G4"}]}`,
		"{\"choices\":[{\"text\":\"a\tb\"}]}", `{"choices":[],"x":tru}`, `{"choices":[],"x":nul}`,
		`{"choices":[],"x":falsey}`, `{"choices":[],"x":01}`, `{"choices":[],"x":1.}`, `{"choices":[],"x":.5}`,
		`{"choices":[],"x":1e}`, `{"choices":[],"x":-}`, `{"choices":[],"x":+1}`, `{"choices":[],"sim_t_ns":1.}`,
		`{"choices":[],"sim_t_ns":-}`, `{"choices":[],"sim_t_ns":01}`, `{"usage":{"server_ttft_seconds":.5}}`,
		`{"usage":{"server_ttft_seconds":1e+}}`, `{"usage":{"prompt_tokens":1x}}`, `{"choices":[],"x":[1 2]}`,
		`{"choices":[],"x":{"a" 1}}`, `{"choices":[],"x":"abc`, `{"choices":[],"x":"\`, `{'choices':[]}`,
		`{"choices":[],"x":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`,
	}
	for _, in := range bad {
		if json.Valid([]byte(in)) && !strings.Contains(in, "[[[") {
			t.Errorf("test case %q is valid JSON", in)
		}
		var c Chunk
		if err := ParseChunk([]byte(in), &c); err == nil {
			t.Errorf("ParseChunk accepted %q", in)
		}
	}
	good := []string{
		ok, " \n" + ok + " \r\n", `{"choices":[{"text":"\u00e9\"\\\/\b\f\n\r\t"}],"x":[true,false,null,-0,0.5,1e3,2E-2,-1.5e+7,{"a":[]}]}`,
		`{"choices":[],"usage":{"prompt_tokens":0,"completion_tokens":1E2,"server_ttft_seconds":-0.0}}`,
		`{"choices":[],"sim_t_ns":-5}`,
	}
	for _, in := range good {
		var c Chunk
		if err := ParseChunk([]byte(in), &c); err != nil {
			t.Errorf("ParseChunk rejected %q: %v", in, err)
		}
	}
	var c Chunk
	ParseChunk([]byte(`{"choices":[],"usage":{"completion_tokens":1E2}}`), &c)
	if c.CompletionTokens != 100 {
		t.Errorf("1E2 read as %d", c.CompletionTokens)
	}
	ParseChunk([]byte(`{"choices":[],"sim_t_ns":-5}`), &c)
	if c.HasSimT {
		t.Errorf("negative sim_t_ns kept: %+v", c)
	}
}
