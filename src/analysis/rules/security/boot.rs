//! Booting: the boot menu's kernel-line editor, and kernel settings that
//! turn protections off.

use super::{items, replace, string_of, Cx};
use crate::analysis::modules::Context;
use crate::diagnostic::registry::*;
use crate::diagnostic::Diagnostic;

pub(super) fn check(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    if (cx.on)(BOOT_EDITOR) {
        boot_editor(cx, found);
    }
    if (cx.on)(WEAK_KERNEL_PARAMS) {
        kernel_params(cx, found);
        sysctls(cx, found);
    }
}

fn boot_editor(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for d in cx
        .modules()
        .named(Context::System, "boot.loader.systemd-boot.editor")
    {
        if cx.value.bool(d) == Some(true) {
            found.push(
                Diagnostic::new(
                    BOOT_EDITOR,
                    d.value.text_range(),
                    "the boot menu's editor lets anyone at the console add \
                     `init=/bin/sh` to the kernel line and get a root shell; set it to \
                     `false`",
                )
                .with_fix(replace(d, "false", "Turn the boot editor off")),
            );
        }
    }
}

/// Kernel command-line parameters that switch a protection off, and what
/// it protected.
const WEAK_PARAMS: &[(&str, &str)] = &[
    (
        "mitigations=off",
        "turns off every CPU vulnerability mitigation (Spectre, Meltdown, MDS...): \
         any process can read other processes' and the kernel's memory",
    ),
    (
        "nopti",
        "turns off page-table isolation, the Meltdown mitigation",
    ),
    (
        "nokaslr",
        "turns off kernel address randomisation, which makes kernel exploits reliable",
    ),
    ("init=/bin/sh", "boots into a root shell with no login"),
];

fn kernel_params(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for d in cx.modules().named(Context::System, "boot.kernelParams") {
        for param in items(&d.value) {
            let Some(text) = string_of(&param) else {
                continue;
            };
            if let Some((name, what)) = WEAK_PARAMS.iter().find(|(p, _)| *p == text) {
                found.push(Diagnostic::new(
                    WEAK_KERNEL_PARAMS,
                    param.text_range(),
                    format!("`{name}` {what}; remove it"),
                ));
            }
        }
    }
}

/// Sysctls whose value 0 turns a protection off.
const WEAK_SYSCTLS: &[(&str, &str)] = &[
    (
        "kernel.unprivileged_bpf_disabled",
        "lets unprivileged users load BPF programs, a frequent way to kernel exploits",
    ),
    (
        "kernel.kptr_restrict",
        "shows kernel addresses to every user, which defeats address randomisation",
    ),
];

fn sysctls(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for (name, what) in WEAK_SYSCTLS {
        let path = ["boot", "kernel", "sysctl", name];
        for d in cx.modules().at(Context::System, &path) {
            let zero = d.value.kind() == rnix::SyntaxKind::NODE_LITERAL && d.value.text() == "0";
            if zero {
                found.push(Diagnostic::new(
                    WEAK_KERNEL_PARAMS,
                    d.value.text_range(),
                    format!("`{name} = 0` {what}; leave the kernel's default"),
                ));
            }
        }
    }
}
