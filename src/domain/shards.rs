//! Which event shard a new program's raw events go to: a stable hash of its id over the
//! shards configured when it is made. The choice is then kept in the program's row (the
//! directory), so adding a shard later moves nobody.

/// FNV-1a, 64 bits: stable across builds and platforms (unlike std's hasher).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The index among `shards` shards for `program_id` (0 when there is one or none).
pub fn assign(program_id: &str, shards: usize) -> usize {
    if shards <= 1 {
        return 0;
    }
    (fnv1a(program_id) % shards as u64) as usize
}

/// The shard list of `EVENT_SHARDS` (a comma list of D1 bindings), `main` alone when
/// empty; duplicates dropped, order kept.
pub fn parse_list(raw: &str, main: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    if names.is_empty() {
        names.push(main.to_owned());
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fnv1a() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn programs_spread_over_the_shards_and_stay_put() {
        assert_eq!(assign("prg_x", 1), 0);
        assert_eq!(assign("prg_x", 0), 0);
        let ids: Vec<String> = (0..1000).map(|i| format!("prg_{i:04}")).collect();
        let mut counts = [0usize; 2];
        for id in &ids {
            counts[assign(id, 2)] += 1;
            assert_eq!(assign(id, 2), assign(id, 2));
        }
        assert!(counts.iter().all(|&c| c > 400), "{counts:?}");
    }

    #[test]
    fn the_list_is_read_once_each() {
        assert_eq!(parse_list("", "DB"), vec!["DB"]);
        assert_eq!(
            parse_list(" DB , EVENTS_1,DB,", "DB"),
            vec!["DB", "EVENTS_1"]
        );
    }
}
