// Command vllm-sim serves a simulated vLLM: the OpenAI API, vLLM metrics,
// DCGM-like GPU metrics and fault injection over package vllmsim.
package main
