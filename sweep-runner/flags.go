package main

import "github.com/spf13/pflag"

// optional is a flag bound to an optional setting (a field of
// v1alpha1.PlanOverrides): *p stays nil until the flag is given, then points
// at its value, zero included. "Given or not" is thus in the setting itself;
// no fs.Changed copy per flag. Parsing, error messages and the type shown
// in the help are those of pflag's own flag of that type (Value).
type optional[T any] struct {
	pflag.Value
	v *T  // where Value parses into
	p **T // the setting
}

func (o *optional[T]) Set(s string) error {
	if err := o.Value.Set(s); err != nil {
		return err
	}
	v := *o.v
	*o.p = &v
	return nil
}

// String is empty while unset, so that the help shows no default: the
// plan's value (or its default) applies.
func (o *optional[T]) String() string {
	if *o.p == nil {
		return ""
	}
	return o.Value.String()
}

// optionalVar defines flag name on fs like define (pflag's IntVar,
// DurationVar, ...) would, but bound to the optional setting *p.
func optionalVar[T any](fs *pflag.FlagSet, p **T, name, usage string, define func(fs *pflag.FlagSet, p *T, name string, value T, usage string)) {
	scratch := pflag.NewFlagSet(name, pflag.ContinueOnError)
	v := new(T)
	var zero T
	define(scratch, v, name, zero, usage)
	fs.Var(&optional[T]{Value: scratch.Lookup(name).Value, v: v, p: p}, name, usage)
}
