; Inno Setup script: a per-user install of the one-folder build, no admin rights needed.
;
;   1. On Windows, build the app:  py -m PyInstaller --noconfirm packaging\ssp-desktop.spec
;      (from the repository root, in a venv with `pip install -e . pyinstaller`)
;   2. Compile this script:        iscc packaging\windows\ssp-desktop.iss
;   -> packaging\dist\ssp-desktop-<version>-setup.exe
;
; Installs into %LOCALAPPDATA%\Programs\ssp-desktop, adds a Start menu entry and
; associates .sspbundle files with the app for this user (HKCU), so double-clicking a
; bundle opens the import wizard. The version must match ssp_desktop/__init__.py
; (packaging/smoke.py checks it).

#define AppVersion "0.1.0"
#define AppExe "ssp-desktop.exe"

[Setup]
AppId={{6C7B1B52-2C3E-4F4E-9B7A-5C1D2E3F4A5B}
AppName=ssp-desktop
AppVersion={#AppVersion}
AppPublisher=The ssp-desktop contributors
DefaultDirName={localappdata}\Programs\ssp-desktop
DefaultGroupName=ssp-desktop
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=
ChangesAssociations=yes
OutputDir=..\dist
OutputBaseFilename=ssp-desktop-{#AppVersion}-setup
SetupIconFile=..\..\ssp_desktop\resources\icons\ssp-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
LicenseFile=..\..\LICENSE
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Files]
Source: "..\dist\ssp-desktop\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{userprograms}\ssp-desktop"; Filename: "{app}\{#AppExe}"
Name: "{userdesktop}\ssp-desktop"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Registry]
Root: HKCU; Subkey: "Software\Classes\.sspbundle"; ValueType: string; ValueName: ""; ValueData: "ssp-desktop.bundle"; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\ssp-desktop.bundle"; ValueType: string; ValueName: ""; ValueData: "ssp-desktop bundle of plan updates"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\ssp-desktop.bundle\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKCU; Subkey: "Software\Classes\ssp-desktop.bundle\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""

[Run]
Filename: "{app}\{#AppExe}"; Description: "Start ssp-desktop"; Flags: nowait postinstall skipifsilent
