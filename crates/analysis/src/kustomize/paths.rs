//! Lexical path arithmetic on '/'-separated paths: Kustomize resolves every
//! entry relative to the kustomization's folder, and the index compares the
//! results as strings, without touching a file system.

/// How a file is named in the Kustomize index: its path '/'-separated and
/// normalized, so that `a/./b.yaml` and the `../a/b.yaml` of a kustomization
/// meet. The command line and the server both name files this way.
pub fn file_key(path: &std::path::Path) -> String {
    normalize(&path.to_string_lossy())
}

/// Removes `.` segments and folds `name/..`; a leading `..` that cannot be
/// folded is kept, and so is a leading `/`.
pub fn normalize(path: &str) -> String {
    // (Most paths come normalized already: taken as they are.)
    if is_normal(path) {
        return path.to_string();
    }
    by_segments(path)
}

/// [`normalize`] segment by segment (without its shortcut for normal paths).
fn by_segments(path: &str) -> String {
    let path = path.replace('\\', "/");
    let absolute = path.starts_with('/');
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => match segments.last() {
                Some(&last) if last != ".." => {
                    segments.pop();
                }
                _ if absolute => {}
                _ => segments.push(".."),
            },
            other => segments.push(other),
        }
    }
    let joined = segments.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Whether [`normalize`] gives `path` back as it is: `/`-separated, no
/// empty or `.` segment, `..` only leading a relative path; or `.`.
fn is_normal(path: &str) -> bool {
    if path == "." {
        return true;
    }
    if path.is_empty() || memchr::memchr(b'\\', path.as_bytes()).is_some() {
        return false;
    }
    let (absolute, rest) = match path.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, path),
    };
    if rest.is_empty() {
        // (`/`.)
        return true;
    }
    let mut climbing = !absolute;
    for segment in rest.split('/') {
        match segment {
            "" | "." => return false,
            ".." if climbing => {}
            ".." => return false,
            _ => climbing = false,
        }
    }
    true
}

/// `relative` resolved against the folder `dir`.
pub fn join(dir: &str, relative: &str) -> String {
    if relative.starts_with('/') {
        normalize(relative)
    } else {
        normalize(&format!("{dir}/{relative}"))
    }
}

/// The folder of a normalized path (`.` for a bare file name).
pub fn parent(path: &str) -> String {
    match path.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => path[..i].to_string(),
        None => ".".to_string(),
    }
}

/// `to` as seen from the deepest folder it shares with `from`: how a message
/// names an overlay to the reader of a base (`overlays/prod`).
pub fn relative_to_common(from: &str, to: &str) -> String {
    let from: Vec<&str> = from.split('/').collect();
    let to_segments: Vec<&str> = to.split('/').collect();
    let shared = from
        .iter()
        .zip(&to_segments)
        .take_while(|(a, b)| a == b)
        .count();
    let rest = to_segments[shared..].join("/");
    if rest.is_empty() {
        to.to_string()
    } else {
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_dots_and_keeps_what_cannot_fold() {
        assert_eq!(normalize("a/./b/../c"), "a/c");
        assert_eq!(normalize("./a"), "a");
        assert_eq!(normalize("../a/../../b"), "../../b");
        assert_eq!(normalize("/x/../../y"), "/y");
        assert_eq!(normalize("a/.."), ".");
        assert_eq!(normalize("a\\b"), "a/b");
    }

    #[test]
    fn a_normal_path_is_one_normalize_gives_back() {
        // Every path of up to four segments of these, absolute or not.
        let parts = ["a", "b", "", ".", "..", "c\\d"];
        let mut paths = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = paths
                .iter()
                .flat_map(|p| parts.iter().map(move |s| format!("{p}/{s}")))
                .collect();
            paths.extend(longer);
        }
        let mut normal = 0;
        for path in paths
            .iter()
            .flat_map(|p| [p.clone(), p.trim_start_matches('/').to_string()])
        {
            normal += usize::from(is_normal(&path));
            assert_eq!(is_normal(&path), by_segments(&path) == path, "{path:?}");
            assert_eq!(normalize(&path), by_segments(&path), "{path:?}");
        }
        assert!(normal > 100, "{normal}");
    }

    #[test]
    fn join_and_parent() {
        assert_eq!(join("k/overlays/prod", "../../base"), "k/base");
        assert_eq!(join("k", "/abs/x.yaml"), "/abs/x.yaml");
        assert_eq!(join(".", "base"), "base");
        assert_eq!(parent("k/base/deploy.yaml"), "k/base");
        assert_eq!(parent("deploy.yaml"), ".");
        assert_eq!(parent("/deploy.yaml"), "/");
    }

    #[test]
    fn overlays_are_named_from_the_shared_folder() {
        assert_eq!(
            relative_to_common("app/base", "app/overlays/prod"),
            "overlays/prod"
        );
        assert_eq!(relative_to_common("app/base", "app/base"), "app/base");
        assert_eq!(relative_to_common("base", "prod"), "prod");
    }
}
