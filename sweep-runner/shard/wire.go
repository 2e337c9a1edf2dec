package shard

import (
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/load"
)

// StepRequest is POST /step's body: one shard's share of a step.
type StepRequest struct {
	// ID names the step attempt (POST /phase refers to it).
	ID    string `json:"id"`
	Shard int    `json:"shard"`
	// TargetURL is the model server's base URL (the worker uses its own
	// API key and CA, from its flags or plan).
	TargetURL string        `json:"target_url"`
	Prompt    client.Prompt `json:"prompt"`
	// Start: when the share's users start (every shard at once).
	Start time.Time `json:"start"`
	// Counter: the share's requests are numbered from Counter+1.
	Counter uint64     `json:"counter"`
	Config  wireConfig `json:"config"`
}

// wireConfig is a load.Config without what cannot travel (the client,
// prompt, counter and callbacks: shadowed here by nil fields of the same
// names, which encoding/json prefers and omitempty leaves out): every other
// setting of the step goes to the worker as it is.
type wireConfig struct {
	load.Config
	Client  *struct{} `json:",omitempty"`
	Prompt  *struct{} `json:",omitempty"`
	Counter *struct{} `json:",omitempty"`
	Decide  *struct{} `json:",omitempty"`
	Abandon *struct{} `json:",omitempty"`
	Steer   *struct{} `json:",omitempty"`
	Watch   *struct{} `json:",omitempty"`
}

// Message is one line of POST /step's response: progress while the step
// runs, then exactly one of Result, Refused or Error.
type Message struct {
	Progress *load.Snapshot     `json:"progress,omitempty"`
	Result   *load.Result       `json:"result,omitempty"`
	Refused  *load.RefusedError `json:"refused,omitempty"`
	Error    string             `json:"error,omitempty"`
}

// PhaseRequest is POST /phase's body: the step attempt's phase
// (load.SteerWindow, load.SteerTail).
type PhaseRequest struct {
	ID    string `json:"id"`
	Phase int    `json:"phase"`
}
