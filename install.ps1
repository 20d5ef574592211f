# Install mcpgw on Windows for the current user (the same contract as install.sh).
#
#   irm https://github.com/mcpgw/mcpgw/releases/latest/download/install.ps1 | iex
#   .\install.ps1 [-Version X] [-Prefix DIR] [-FromSource] [-Binary PATH]
#
# By default it downloads mcpgw-<version>-x86_64-pc-windows-msvc.zip of the latest
# release, checks it against the release's SHA256SUMS (a missing entry or a mismatch
# installs nothing), installs mcpgw.exe into PREFIX\bin (default
# %LOCALAPPDATA%\Programs\mcpgw\bin) through a temporary file and a rename, copies
# the PowerShell completions to PREFIX\completions and adds PREFIX\bin to your user
# PATH. Running it again gives the same files. With `irm | iex`, use the settings:
#
#   $env:MCPGW_INSTALL_BASE_URL = 'URL'  a mirror: URL/latest.txt, URL/vX/SHA256SUMS,
#                                        URL/vX/mcpgw-X-x86_64-pc-windows-msvc.zip
#   $env:MCPGW_INSTALL_VERSION = 'X'     that release instead of the latest
#   $env:MCPGW_INSTALL_PREFIX = 'DIR'    install into DIR\bin
#   $env:MCPGW_INSTALL_TARGET = 'TRIPLE' the archive's target triple
#   $env:MCPGW_INSTALL_FROM_SOURCE = '1' build with cargo instead (as -FromSource)
param(
    [string]$Version = $env:MCPGW_INSTALL_VERSION,
    [string]$Prefix = $env:MCPGW_INSTALL_PREFIX,
    [switch]$FromSource,
    [string]$Binary = $env:MCPGW_INSTALL_BINARY
)

function Install-Mcpgw {
    param([string]$Version, [string]$Prefix, [bool]$FromSource, [string]$Binary)

    # Inside a function, so `irm | iex` does not change the caller's session.
    Set-StrictMode -Version 3.0
    $ErrorActionPreference = 'Stop'
    $ProgressPreference = 'SilentlyContinue'

    $DefaultBaseUrl = 'https://github.com/mcpgw/mcpgw/releases/download'
    $DefaultLatestUrl = 'https://github.com/mcpgw/mcpgw/releases/latest/download/latest.txt'

    function Fail([string]$Message) {
        throw "install.ps1: error: $Message"
    }

    # Windows PowerShell 5.1 may default to TLS 1.0.
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12

    if (-not $Prefix) { $Prefix = Join-Path $env:LOCALAPPDATA 'Programs\mcpgw' }
    $Prefix = [IO.Path]::GetFullPath($Prefix)
    $BinDir = Join-Path $Prefix 'bin'
    $Dest = Join-Path $BinDir 'mcpgw.exe'
    if ($Version) { $Version = $Version.TrimStart('v') }
    if ($Version -and $Version -notmatch '^[0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.+-]*$') {
        Fail "'$Version' is not a version number (want e.g. 0.1.0)"
    }

    # Replaces $Target with $Source through a temporary file and renames. A running
    # mcpgw.exe cannot be overwritten but can be renamed, so it is moved aside first.
    function Put-File([string]$Source, [string]$Target) {
        New-Item -ItemType Directory -Force -Path (Split-Path $Target) | Out-Null
        $tmpFile = "$Target.tmp.$PID"
        Copy-Item -LiteralPath $Source -Destination $tmpFile -Force
        if (Test-Path -LiteralPath $Target) {
            $old = "$Target.old"
            Remove-Item -LiteralPath $old -Force -ErrorAction SilentlyContinue
            if (Test-Path -LiteralPath $old) { $old = "$Target.old.$PID" }
            Move-Item -LiteralPath $Target -Destination $old -Force
            Remove-Item -LiteralPath $old -Force -ErrorAction SilentlyContinue
        }
        Move-Item -LiteralPath $tmpFile -Destination $Target -Force
    }

    function Get-Url([string]$Url, [string]$OutFile) {
        try {
            Invoke-WebRequest -Uri $Url -OutFile $OutFile -UseBasicParsing
        } catch {
            Fail "could not download $Url ($($_.Exception.Message)). Check your network and the version (-Version), or use a mirror: `$env:MCPGW_INSTALL_BASE_URL = 'URL'"
        }
    }

    $Triple = $env:MCPGW_INSTALL_TARGET
    if (-not $Triple) {
        switch ($env:PROCESSOR_ARCHITECTURE) {
            'AMD64' { $Triple = 'x86_64-pc-windows-msvc' }
            # Windows on Arm runs x64 programs.
            'ARM64' { $Triple = 'x86_64-pc-windows-msvc' }
            default { $Triple = '' }
        }
    }
    $Mode = 'download'
    if ($Binary) { $Mode = 'binary' }
    elseif ($FromSource -or $env:MCPGW_INSTALL_FROM_SOURCE) { $Mode = 'source' }
    elseif (-not $Triple) {
        Write-Host "There is no prebuilt mcpgw for $($env:PROCESSOR_ARCHITECTURE) Windows (prebuilt: x86_64). Building it from source with cargo instead."
        $Mode = 'source'
    }

    $Work = Join-Path ([IO.Path]::GetTempPath()) ("mcpgw-install-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $Work | Out-Null
    $Completions = $null
    try {
        switch ($Mode) {
            'binary' {
                if (-not (Test-Path -LiteralPath $Binary -PathType Leaf)) { Fail "-Binary $Binary is not a file" }
                Put-File $Binary $Dest
                Write-Host "Installed $Binary as $Dest"
            }
            'source' {
                if (-not (Get-Command cargo -ErrorAction SilentlyContinue)) {
                    Fail "cargo was not found on PATH. Building mcpgw from source needs Rust's cargo: install Rust from https://rustup.rs, open a new terminal and run this again"
                }
                $cargoArgs = @('install', 'mcpgw', '--locked', '--force', '--root', $Prefix)
                if ($Version) { $cargoArgs += @('--version', $Version) }
                Write-Host "Building mcpgw with cargo (a release build takes a few minutes)..."
                & cargo @cargoArgs
                if ($LASTEXITCODE -ne 0) { Fail "cargo install failed (exit $LASTEXITCODE)" }
            }
            'download' {
                $base = $env:MCPGW_INSTALL_BASE_URL
                if (-not $base) { $base = $DefaultBaseUrl }
                $base = $base.TrimEnd('/')
                if (-not $Version) {
                    $latestUrl = if ($base -eq $DefaultBaseUrl) { $DefaultLatestUrl } else { "$base/latest.txt" }
                    Get-Url $latestUrl (Join-Path $Work 'latest.txt')
                    $Version = (Get-Content -Raw (Join-Path $Work 'latest.txt')).Trim().TrimStart('v')
                    if ($Version -notmatch '^[0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.+-]*$') {
                        Fail "$latestUrl does not hold a version number; pin one with -Version X"
                    }
                }
                $name = "mcpgw-$Version-$Triple"
                $archive = "$name.zip"
                Write-Host "Downloading mcpgw $Version for $Triple from $base/v$Version/"
                $sumsFile = Join-Path $Work 'SHA256SUMS'
                Get-Url "$base/v$Version/SHA256SUMS" $sumsFile
                $expected = $null
                foreach ($line in Get-Content $sumsFile) {
                    $fields = $line.Trim() -split '\s+', 2
                    if ($fields.Count -eq 2 -and ($fields[1] -eq $archive -or $fields[1] -eq "*$archive")) {
                        $expected = $fields[0].ToLowerInvariant()
                        break
                    }
                }
                if (-not $expected) {
                    Fail "SHA256SUMS of v$Version has no entry for $archive, so it cannot be verified: nothing was installed. If this release has no archive for $Triple, build from source: -FromSource"
                }
                $zip = Join-Path $Work $archive
                Get-Url "$base/v$Version/$archive" $zip
                $actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $zip).Hash.ToLowerInvariant()
                if ($actual -ne $expected) {
                    Fail "checksum mismatch for ${archive}: SHA256SUMS says $expected, the download is $actual. The download is corrupt or was tampered with: nothing was installed."
                }
                Write-Host "Verified $archive (sha256 $actual)"
                $unpacked = Join-Path $Work 'unpacked'
                Expand-Archive -LiteralPath $zip -DestinationPath $unpacked
                $exe = Join-Path $unpacked "$name\mcpgw.exe"
                if (-not (Test-Path -LiteralPath $exe -PathType Leaf)) { Fail "$archive has no $name\mcpgw.exe: nothing was installed" }
                & $exe --version | Out-Null
                if ($LASTEXITCODE -ne 0) { Fail "the downloaded mcpgw.exe does not run here: nothing was installed. Try -FromSource" }
                Put-File $exe $Dest
                Write-Host "Installed mcpgw $Version as $Dest"
                $Completions = Join-Path $unpacked "$name\completions\_mcpgw.ps1"
            }
        }

        $installed = & $Dest --version
        if ($LASTEXITCODE -ne 0) { Fail "the installed $Dest does not run" }

        # PowerShell completions: from the archive, else generated by mcpgw itself.
        $completionFile = Join-Path $Prefix 'completions\_mcpgw.ps1'
        $generated = Join-Path $Work '_mcpgw.ps1'
        if (-not ($Completions -and (Test-Path -LiteralPath $Completions))) {
            & $Dest completions powershell | Out-File -Encoding utf8 -FilePath $generated
            $Completions = $generated
        }
        Put-File $Completions $completionFile
        Write-Host "Installed PowerShell completions: $completionFile"
    } finally {
        Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue
    }

    # PATH (user scope), once.
    $userPath = [Environment]::GetEnvironmentVariable('Path', 'User')
    if (-not $userPath) { $userPath = '' }
    $onPath = $userPath -split ';' | Where-Object { $_.TrimEnd('\') -ieq $BinDir.TrimEnd('\') }
    Write-Host ""
    Write-Host "$installed is installed at $Dest"
    if (-not $onPath) {
        [Environment]::SetEnvironmentVariable('Path', (($userPath.TrimEnd(';') + ";$BinDir").TrimStart(';')), 'User')
        $env:Path = "$env:Path;$BinDir"
        Write-Host "Added $BinDir to your user PATH (open a new terminal for other programs to see it)."
    }
    Write-Host ""
    Write-Host "Completions: add this line to your PowerShell profile (notepad `$PROFILE):"
    Write-Host "  . `"$completionFile`""
    Write-Host ""
    Write-Host "Next steps:"
    Write-Host "  mcpgw login                    # sign in to Alibaba Cloud in the browser"
    Write-Host "  mcpgw services add ecs <URL>   # name an MCP server from the console (its .../mcp URL)"
    Write-Host "  mcpgw setup claude --apply     # register your services with Claude Code"
    Write-Host "  mcpgw doctor                   # check that everything works"
}

Install-Mcpgw -Version $Version -Prefix $Prefix -FromSource $FromSource.IsPresent -Binary $Binary
