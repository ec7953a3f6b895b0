//! `~/.vimrc` into `programs.vim`. Read as Vim sources it (see
//! [`super::vimscript`]): the 20 settings Home Manager types become
//! `settings.<name>` where moving them to the top of the vimrc changes
//! nothing, vim-plug/Vundle/`packadd` plugins become `plugins`, and the
//! rest stays in `extraConfig`, verbatim and in order.
//!
//! Home Manager builds a wrapped vim whose vimrc (nixpkgs' `vimrcContent`)
//! is `set nocompatible`, the plugins' packpath, one `set` per setting
//! (sorted by name), a blank line, then `extraConfig`; the plugins load
//! after it. Its module also always adds `vim-sensible` to `plugins`.

use super::nix::{Attrs, Value};
use super::vimscript::{plan, Flavor};
use super::{Converted, Files, MigrateError, Release, Source, Warning};

pub fn convert(
    source: Source<'_>,
    _release: Release,
    _files: &dyn Files,
) -> Result<Converted, MigrateError> {
    let plan = plan(source, Flavor::Vim)?;
    let mut out = Attrs::new();
    out.set(&["enable"], Value::Bool(true));
    for (name, value, comments) in plan.settings {
        out.set_with_comments(&["settings", name], value, comments);
    }
    if !plan.plugins.is_empty() {
        let list = plan
            .plugins
            .iter()
            .map(|attr| Value::code(format!("pkgs.vimPlugins.{}", super::nix::name(attr))))
            .collect();
        out.set(&["plugins"], Value::List(list));
    }
    if !plan.extra.is_empty() {
        out.set(&["extraConfig"], Value::Str(plan.extra));
    }
    let mut warnings = plan.warnings;
    warnings.sort_by_key(|w| w.line.unwrap_or(usize::MAX));
    if !plan.plugins.iter().any(|p| p == "vim-sensible") {
        warnings.push(Warning {
            line: None,
            message: "Home Manager's vim module always adds the plugin vim-sensible, which sets options the file may leave at Vim's defaults (`backspace`, `incsearch`, `laststatus`, `history` of at least 1000, ...); set them in `extraConfig` if that matters".into(),
        });
    }
    Ok(Converted {
        options: out,
        also: Attrs::new(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{migrate, NoFiles};
    use super::*;
    use expect_test::expect;

    fn run(text: &str) -> (String, Vec<Warning>) {
        let m = migrate(
            Source {
                path: "~/.vimrc",
                text,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        let out = m.to_nix(0);
        let parse = rnix::Root::parse(&format!("{{\n{out}}}\n"));
        assert!(parse.errors().is_empty(), "{:?}\n{out}", parse.errors());
        (out, m.warnings)
    }

    const VIMRC: &str = r#"set nocompatible " be iMproved
filetype off

let data_dir = has('nvim') ? stdpath('data') . '/site' : '~/.vim'
if empty(glob(data_dir . '/autoload/plug.vim'))
  silent execute '!curl -fLo '.data_dir.'/autoload/plug.vim --create-dirs https://raw.githubusercontent.com/junegunn/vim-plug/master/plug.vim'
  autocmd VimEnter * PlugInstall --sync | source $MYVIMRC
endif

call plug#begin('~/.vim/plugged')
" git
Plug 'tpope/vim-fugitive'
Plug 'junegunn/fzf', { 'do': { -> fzf#install() } }
Plug 'junegunn/fzf.vim'
Plug 'preservim/nerdtree', { 'on': 'NERDTreeToggle' }
Plug 'fatih/vim-go', {
      \ 'for': 'go',
      \ 'do': ':GoUpdateBinaries' }
Plug 'morhetz/gruvbox'
call plug#end()

" Editing
set nu rnu ts=4 sw=4 et  " indentation
set hidden
set ic scs
set mouse=a
set backspace=indent,eol,start
set undofile undodir=~/.vim/undo//
set history=500
set hi=1000
set path+=**

let mapleader = ","
nnoremap <leader>n :set invnumber<CR>
nnoremap <leader>w :w<CR>
let g:openai_api_key = "sk-proj-0123456789abcdef"

augroup filetypes
  autocmd!
  autocmd FileType go setlocal noexpandtab ts=8
  autocmd BufWritePre *.py :%s/\s\+$//e
augroup END

function! ToggleBackground()
  if &background ==# 'dark'
    set background=light
  else
    set background=dark
  endif
endfunction
set background=dark
colorscheme gruvbox
set modeline
"#;

    #[test]
    fn settings_plugins_and_the_rest_in_order() {
        let (out, warnings) = run(VIMRC);
        expect![[r#"
            programs.vim = {
              enable = true;
              settings = {
                # Editing
                # indentation
                number = true;
                relativenumber = true;
                tabstop = 4;
                shiftwidth = 4;
                expandtab = true;
                hidden = true;
                ignorecase = true;
                smartcase = true;
                mouse = "a";
                undofile = true;
                undodir = [ "~/.vim/undo//" ];
                history = 1000;
              };
              plugins = [
                pkgs.vimPlugins.vim-fugitive
                pkgs.vimPlugins.fzfWrapper
                pkgs.vimPlugins.fzf-vim
                pkgs.vimPlugins.nerdtree
                pkgs.vimPlugins.vim-go
                pkgs.vimPlugins.gruvbox
              ];
              extraConfig = ''
                filetype off

                let data_dir = has('nvim') ? stdpath('data') . '/site' : '~/.vim'

                filetype plugin indent on
                syntax enable

                set backspace=indent,eol,start
                set path+=**

                let mapleader = ","
                nnoremap <leader>n :set invnumber<CR>
                nnoremap <leader>w :w<CR>

                augroup filetypes
                  autocmd!
                  autocmd FileType go setlocal noexpandtab ts=8
                  autocmd BufWritePre *.py :%s/\s\+$//e
                augroup END

                function! ToggleBackground()
                  if &background ==# 'dark'
                    set background=light
                  else
                    set background=dark
                  endif
                endfunction
                set background=dark
                colorscheme gruvbox
                set modeline
              '';
            };
        "#]]
        .assert_eq(&out);
        let lines: Vec<Option<usize>> = warnings.iter().map(|w| w.line).collect();
        assert_eq!(
            lines,
            [
                Some(1),
                Some(10),
                Some(13),
                Some(15),
                Some(16),
                Some(36),
                None
            ],
            "{warnings:#?}"
        );
        assert!(warnings[5].message.contains("secret"));
        assert!(!out.contains("sk-proj"));
        assert!(
            warnings[4]
                .message
                .contains("`for` (Home Manager loads every plugin at startup), `do`"),
            "{}",
            warnings[4].message
        );
    }

    #[test]
    fn vundle_and_packadd() {
        let (out, warnings) = run("set nocompatible\nfiletype off\nset rtp+=~/.vim/bundle/Vundle.vim\ncall vundle#begin()\nPlugin 'VundleVim/Vundle.vim'\nPlugin 'https://github.com/tpope/vim-surround.git'\ncall vundle#end()\nfiletype plugin indent on\npackadd! matchit\npackadd vim-commentary\nset tabstop=2\n");
        expect![[r#"
            programs.vim = {
              enable = true;
              settings.tabstop = 2;
              plugins = [
                pkgs.vimPlugins.vim-surround
                pkgs.vimPlugins.vim-commentary
              ];
              extraConfig = ''
                filetype off
                filetype plugin indent on
                packadd! matchit
              '';
            };
        "#]]
        .assert_eq(&out);
        assert_eq!(warnings.len(), 4, "{warnings:#?}");
    }

    #[test]
    fn plugin_lines_that_cannot_convert_keep_the_manager() {
        let (out, warnings) = run("call plug#begin()\nPlug 'tpope/vim-sensible'\nPlug '~/src/my-plugin'\ncall plug#end()\n");
        expect![[r#"
            programs.vim = {
              enable = true;
              extraConfig = ''
                call plug#begin()
                Plug 'tpope/vim-sensible'
                Plug '~/src/my-plugin'
                call plug#end()
              '';
            };
        "#]]
        .assert_eq(&out);
        assert_eq!(warnings[0].line, Some(3));
    }

    #[test]
    fn broken_blocks_are_refused() {
        for (text, line) in [
            ("set nu\nif 1\nset ts=2\n", 2),
            ("endif\n", 1),
            ("function! F()\n  return 1\n", 1),
        ] {
            match migrate(
                Source {
                    path: "~/.vimrc",
                    text,
                },
                Release::NEWEST,
                &NoFiles,
            ) {
                Err(MigrateError::Syntax { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        // One-line blocks and heredocs are read whole.
        let (out, _) = run("if has('mouse') | set mouse=a | endif\npython3 << EOF\nif x:\n    pass\nEOF\nset nonumber\n");
        assert!(out.contains("number = false;"), "{out}");
        assert!(out.contains("set mouse=a"), "{out}");
    }

    #[test]
    fn option_names_exist() {
        use crate::home::options::{index, Lookup};
        let mut paths: Vec<Vec<String>> = ["enable", "plugins", "extraConfig"]
            .iter()
            .map(|n| vec![n.to_string()])
            .collect();
        for k in super::super::vimscript::KNOWN {
            paths.push(vec!["settings".into(), k.name.into()]);
        }
        for path in paths {
            let mut full = vec!["programs", "vim"];
            full.extend(path.iter().map(String::as_str));
            assert!(
                matches!(index().lookup(&full), Lookup::Option(..)),
                "{full:?}: {:?}",
                index().lookup(&full)
            );
        }
    }
}
