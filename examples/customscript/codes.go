package main

import (
	"github.com/go-kit/log/level"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/status"

	"github.com/vmext/vmext/examples/customscript/download"
)

// ClarificationSubstatus is the name of the substatus that carries the error clarification
// code of a failure, as Microsoft's handler v2 writes it.
const ClarificationSubstatus = "ErrorClarification"

// Error clarification codes of Microsoft's Custom Script handler v2 (pkg/errorutil of
// Azure/custom-script-extension-linux) for settings and execution. The download codes are in
// package download. Positive codes are the user's errors; zero and negative ones the system's.
const (
	CodeBadConfig          = -21 // the settings do not parse, fit the schema or decrypt
	CodeNoCertificate      = -20 // the certificate for the protected settings is missing
	CodeDeleteDataFolder   = -50 // uninstall cannot remove the data folder
	CodeOpenStdout         = -51 // the command's stdout file cannot be created
	CodeOpenStderr         = -52 // the command's stderr file cannot be created
	CodeSystem             = 0   // anything else that is not the user's doing
	CodeCommandFailed      = 1   // the command could not be started
	CodeCommandExit        = 2   // the command exited with a non-zero status
	CodeCommandInterrupted = 3   // the command was stopped before it finished
	CodeCommandInBoth      = 20  // commandToExecute in public and protected settings
	CodeFileURIsInBoth     = 22  // fileUris in public and protected settings
	CodeNoCommandNorScript = 23  // neither commandToExecute nor script
	CodeFileURIEmpty       = 24  // an entry of fileUris is empty or null
	CodeInvalidFileURI     = download.CodeInvalidURI
	CodeCredentialsAndMI   = 26 // storage account credentials and a managed identity
	CodeClientAndObjectID  = 27 // managedIdentity with both clientId and objectId
	CodeScriptInBoth       = 28 // script in public and protected settings
	CodeCommandAndScript   = 29 // commandToExecute and script both set
	CodeIncompleteStorage  = 30 // only one of storageAccountName and storageAccountKey
	CodeCannotCreateFolder = download.CodeCannotCreateFolder
	CodePolicyLoadFailed   = 81 // the runtime policy cannot be read or is invalid (v2 2.1.19)
)

// clarificationNames are the names v2 gives the codes; they become the substatus message.
var clarificationNames = map[int]string{
	download.CodeStorageInternal:      "Storage_internalServerError",
	download.CodeIMDSInternal:         "Imds_internalMsiError",
	download.CodeUnknown:              "FileDownload_unknownError",
	download.CodeBadRequest:           "FileDownload_badRequest",
	download.CodeAccessDenied:         "FileDownload_accessDenied",
	download.CodeNotFound:             "FileDownload_doesNotExist",
	download.CodeNetwork:              "FileDownload_networkingError",
	download.CodeGeneric:              "FileDownload_genericError",
	download.CodeTimeout:              "FileDownload_exceededTimeout",
	download.CodeIdentityNotFound:     "Msi_notFound",
	download.CodeIdentityForbidden:    "Msi_doesNotHaveRightPermissions",
	download.CodeIdentityGenericError: "Msi_GenericRetrievalError",
	CodeBadConfig:                     "Internal_badConfig",
	CodeNoCertificate:                 "Internal_couldNotFindCertificate",
	CodeDeleteDataFolder:              "Os_FailedToDeleteDataDir",
	CodeOpenStdout:                    "Os_FailedToOpenStdOut",
	CodeOpenStderr:                    "Os_FailedToOpenStdErr",
	CodeSystem:                        "SystemError",
	CodeCommandFailed:                 "CommandExecution_failedUnknownError",
	CodeCommandExit:                   "CommandExecution_failureExitCode",
	CodeCommandInterrupted:            "CommandExecution_interruptedByVmShutdown",
	CodeCommandInBoth:                 "CustomerInput_commandToExecuteSpecifiedInTwoPlaces",
	CodeFileURIsInBoth:                "CustomerInput_fileUrisSpecifiedInTwoPlaces",
	CodeNoCommandNorScript:            "CustomerInput_commandToExecuteAndScriptNotSpecified",
	CodeFileURIEmpty:                  "CustomerInput_fileUriContainsNull",
	CodeInvalidFileURI:                "CustomerInput_invalidFileUris",
	CodeCredentialsAndMI:              "CustomerInput_storageCredsAndMIBothSpecified",
	CodeClientAndObjectID:             "CustomerInput_clientIdObjectIdBothSpecified",
	CodeScriptInBoth:                  "CustomerInput_scriptSpecifiedInTwoPlaces",
	CodeCommandAndScript:              "CustomerInput_commandToExecuteAndScriptBothSpecified",
	CodeIncompleteStorage:             "CustomerInput_incompleteStorageCreds",
	CodeCannotCreateFolder:            "FileDownload_unableToCreateDownloadDirectory",
	CodePolicyLoadFailed:              "ExtensionPolicySettings_policyLoadFailed",
}

// failure is an operation's failure with v2's error clarification code.
type failure struct {
	clarification int
	// user marks the user's error (wrong settings, a URL that does not exist, a script that
	// fails): status code 53, which Azure does not count against the extension. Otherwise
	// the status code is 1.
	user bool
	err  error
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// badConfig is a failure of the settings: the user's error.
func badConfig(clarification int, err error) *failure {
	return &failure{clarification: clarification, user: true, err: err}
}

// report writes the failure's ErrorClarification substatus and returns the error for the
// runtime, which writes the error status ("<Op> failed: <message>") with its code.
func report(x *handler.Context, f *failure) error {
	sub := status.Substatus{Name: ClarificationSubstatus, State: status.Error, Code: f.clarification, Message: clarificationNames[f.clarification]}
	if err := x.Status.SetSubstatus(sub); err != nil {
		level.Warn(x.Log).Log("msg", "cannot write the error clarification substatus", "err", err)
	}
	code := 1
	if f.user {
		code = handler.CodeBadConfig
	}
	return &handler.Error{Code: code, ExitCode: code, Err: f}
}
