// Package dataset reads files of recorded traffic: prompts people really
// sent, with the length of the answer each got, so that a scenario can
// replay them (Scenario.Dataset) instead of synthetic prompts, and so that
// `sweep-runner dataset stats` can show their length distributions before
// a sweep relies on them.
//
// Why a package of its own: the file is the user's, of any size and
// quality, and both the load and the stats command must read it the same
// way: with the same bounds (a file over MaxFileBytes, a JSON Lines line
// over MaxLineBytes is refused, never read into memory whole), the same
// errors (a bad line is an error naming its line number: nothing is
// skipped silently, so a replay sends what the file says) and the same
// token estimate when no tokenizer is at hand.
//
// # Formats
//
// JSON Lines ("jsonl"): one JSON object a line, either a completions
// prompt or a chat conversation, with the answer's length:
//
//	{"prompt": "Summarise this ...", "output_tokens": 128}
//	{"messages": [{"role": "system", "content": "..."}, {"role": "user", "content": "..."}], "output_tokens": 64}
//
// max_tokens is accepted as another name of output_tokens (the field of
// the request that was recorded); giving both is an error. Blank lines are
// no entries; other fields are ignored.
//
// ShareGPT ("sharegpt"): ShareGPT's JSON, an array of records (or one
// record a line) with conversations of {"from", "value"} turns. Each human
// turn followed by a gpt turn is one request: its Prompt is the human
// value, its Messages the latest system turn before it (if any) and the
// human turn, and its OutputTokens the gpt answer's length. "user" and
// "assistant" are accepted for human and gpt (OpenAI's names, which some
// exports use), as are "chatgpt", "bard" and "bing" for the answer. A
// human turn without an answer after it, or an empty turn, is no request
// and is counted in Info.Skipped, never dropped silently.
//
// ShareGPT records no token counts, so the answer's length is counted by
// Options.CountAnswer (a tokenizer round trip) or, without it, estimated
// by EstimateTokens, and Info.OutputEstimated says so.
//
// # Token estimate
//
// EstimateTokens is 4/3 of a token per whitespace-separated word, rounded
// up: the usual rule of thumb of English prose with BPE tokenizers (a
// token is about three quarters of a word). It is an estimate: code,
// numbers and languages written without spaces take more tokens than it
// says, and a chat template adds tokens it does not count. A server's
// POST /tokenize gives the exact count.
package dataset
