//! The envelope invariant: what crosses the queue parses back into exactly what was built.

use hookrelay::wire::envelope::Envelope;

/// Serialises `envelope` as the queue does and parses it back; panics (a finding) unless the
/// result equals the original, the text is valid JSON equal to serde's own rendering, and a second
/// round trip writes the same text.
pub fn assert_round_trips(envelope: &Envelope) -> String {
    let text = envelope.to_json();
    let parsed =
        Envelope::from_json(&text).unwrap_or_else(|e| panic!("a queued envelope does not parse back: {e}\n{text}"));
    assert_eq!(&parsed, envelope, "the envelope changed across the queue:\n{text}");
    let ours: serde_json::Value = serde_json::from_str(&text).expect("to_json writes JSON");
    let serdes = serde_json::to_value(envelope).expect("an envelope serialises");
    assert_eq!(ours, serdes, "to_json and serde disagree");
    assert_eq!(parsed.to_json(), text, "a second round trip writes other text");
    text
}
