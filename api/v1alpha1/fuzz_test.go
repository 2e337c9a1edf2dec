package v1alpha1

import (
	"errors"
	"strings"
	"testing"
)

// fuzzSeeds are the committed starting points of the loader fuzz targets,
// besides testdata/fuzz: valid configs, near misses and hostile input. Deep
// nesting stays shallow here: the fuzzer minimises every new input byte by
// byte, which stalls on large seeds; the very deep and very large inputs are
// unit tests.
var fuzzSeeds = []string{
	"apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: ModelPerformanceMetrics\nspec: {}\n",
	"apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: ModelPerformanceMetrics\nspec:\n  models:\n  - name: a\n    gpus: 2\n  sweep:\n    concurrency: [1, 2, 4]\n    stepDuration: 5s\n",
	"apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: SweepPlan\nspec:\n  targets:\n  - name: m\n    url: http://127.0.0.1:8000\n",
	"{\"apiVersion\": \"step07.rhoai-demo.io/v1alpha1\", \"kind\": \"ModelPerformanceMetrics\", \"spec\": {\"models\": [{\"name\": 1}]}}",
	"spec: {models: [{gpus: -1}], sweep: {schedule: '99 * * * *'}}",
	"a: &a [*a, *a]",
	strings.Repeat("[", 200) + strings.Repeat("]", 200),
	strings.Repeat("- ", 100) + "x",
	"\x00\x01\x02garbage\xff",
	"---\n---\nkind: x\n",
	"spec:\n  sweep:\n    stepDuration: 1e400\n",
}

// checkLoaderResult asserts the loaders' contract: either a valid object or
// an Errors value whose every entry names a path and a message.
func checkLoaderResult(t *testing.T, err error) {
	if err == nil {
		return
	}
	var fe Errors
	if !errors.As(err, &fe) {
		t.Fatalf("error is not a field-path Errors list: %T %v", err, err)
	}
	if len(fe) == 0 {
		t.Fatalf("empty Errors returned as an error")
	}
	for _, e := range fe {
		if e.Path == "" || e.Msg == "" {
			t.Fatalf("error without path or message: %+v", e)
		}
	}
}

func FuzzLoadConfig(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadConfig(data)
		checkLoaderResult(t, err)
		if err == nil {
			// A loaded config is defaulted and valid: validating again changes nothing.
			if err := c.Validate(); err != nil {
				t.Fatalf("loaded config fails Validate: %v", err)
			}
			p := c.Plan()
			if err := p.Validate(); err != nil {
				t.Fatalf("plan of a valid config is invalid: %v", err)
			}
		}
	})
}

func FuzzLoadPlan(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := LoadPlan(data)
		checkLoaderResult(t, err)
		if err == nil && len(p.Spec.Steps()) == 0 {
			t.Fatalf("valid plan with no concurrency steps")
		}
	})
}
